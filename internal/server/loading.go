package server

import (
	"io"
	"sync/atomic"
	"time"
)

// Loading the dataset, at start (dump.rdb or the AOF) and on a replica
// receiving its primary's RDB, as Redis does it: connections are accepted
// meanwhile and every command without the loading flag is answered
// -LOADING; INFO persistence reports the progress (loading_loaded_perc,
// loading_eta_seconds…), and so does the log, every few seconds. The
// loader holds every shard, and lets go of them every loadYieldKeys keys
// so that the commands allowed while loading (INFO, CONFIG, CLIENT…) are
// answered within a fraction of a millisecond.

// errLoading is Redis's refusal while the dataset loads.
const errLoading = "LOADING Redis is loading the dataset in memory"

// loadYieldKeys is how many keys the loader stores per hold of the shards.
const loadYieldKeys = 1024

// loadProgressEvery is how often a long load logs its progress.
const loadProgressEvery = 5 * time.Second

// loadState is the progress of the load under way.
type loadState struct {
	active  atomic.Bool
	async   atomic.Bool  // a replica's swapdb load: clients read the old dataset meanwhile
	start   atomic.Int64 // Unix s
	startNs atomic.Int64
	total   atomic.Int64 // bytes to read, 0 when unknown
	loaded  atomic.Int64 // bytes read
	usedMem atomic.Int64 // the producer's used-mem AUX field
	lastLog atomic.Int64 // Unix ns of the last progress line

	// The loader's last yield (loadYield; only the loader reads them):
	// when (monotonic ns) and how many bytes were read then.
	yieldAt, yieldBytes int64
	yieldEvery          int64 // loading-process-events-interval-bytes
}

// beginLoading marks the dataset as loading total bytes (0: unknown).
func (s *Server) beginLoading(total int64) {
	l := &s.load
	now := time.Now()
	l.start.Store(now.Unix())
	l.startNs.Store(now.UnixNano())
	l.lastLog.Store(now.UnixNano())
	l.total.Store(total)
	l.loaded.Store(0)
	l.usedMem.Store(0)
	l.yieldAt, l.yieldBytes = int64(monotonic()), 0
	l.yieldEvery = s.Config.Int("loading-process-events-interval-bytes")
	l.active.Store(true)
}

// endLoading marks the load done.
func (s *Server) endLoading() { s.load.active.Store(false) }

// loadingReader counts the bytes a load reads, for INFO and the log.
type loadingReader struct {
	r io.Reader
	s *Server
}

func (lr loadingReader) Read(p []byte) (int, error) {
	n, err := lr.r.Read(p)
	l := &lr.s.load
	done := l.loaded.Add(int64(n))
	if now := time.Now().UnixNano(); now-l.lastLog.Load() >= int64(loadProgressEvery) {
		l.lastLog.Store(now)
		if total := l.total.Load(); total > 0 {
			perc, eta := loadProgress(done, total, time.Duration(now-l.startNs.Load()))
			lr.s.Log.Noticef("Loading the dataset: %.2f%% (%d of %d bytes), about %d seconds left", perc, done, total, eta)
		} else {
			lr.s.Log.Noticef("Loading the dataset: %d bytes read", done)
		}
	}
	return n, err
}

// loadingCounted returns r, counted for the progress when a load is under
// way.
func (s *Server) loadingCounted(r io.Reader) io.Reader {
	if s.load.active.Load() {
		return loadingReader{r, s}
	}
	return r
}

// loadingCountedAsync is loadingCounted for a swapdb load, which counts
// its progress without making the dataset loading.
func (s *Server) loadingCountedAsync(r io.Reader) io.Reader {
	s.beginLoading(0)
	s.load.active.Store(false)
	return loadingReader{r, s}
}

// loadProgress is the share read and the seconds left, at the pace so far.
func loadProgress(done, total int64, elapsed time.Duration) (perc float64, eta int64) {
	if total <= 0 {
		return 0, 1
	}
	perc = float64(done) * 100 / float64(total)
	if done <= 0 {
		return perc, 1
	}
	return perc, int64(elapsed.Seconds() * float64(total-done) / float64(done))
}

// loadYield lets go of every shard for a moment during a load (keys
// counts the keys stored so far), so that commands allowed while loading
// get an answer; the loader holds every shard. It does so every
// loadYieldKeys keys, every loading-process-events-interval-bytes bytes
// read (Redis's setting: a few big keys), and when it held them for
// loadYieldAfter (a slow source: a primary's stream, key-load-delay).
func (s *Server) loadYield(keys int64) {
	l := &s.load
	if !l.active.Load() {
		return
	}
	now := int64(monotonic())
	if keys%loadYieldKeys != 0 && now-l.yieldAt < int64(loadYieldAfter) &&
		l.loaded.Load()-l.yieldBytes < l.yieldEvery {
		return
	}
	s.Store.UnlockAll()
	s.Store.LockAll()
	l.yieldAt, l.yieldBytes = int64(monotonic()), l.loaded.Load()
}

// loadYieldAfter is the longest the loader holds the shards when keys come
// slowly.
const loadYieldAfter = 5 * time.Millisecond

// debugDelay waits as Redis's debugDelay: usec µs, or -usec ns of busy
// wait when negative (rdb-key-save-delay, key-load-delay).
func debugDelay(usec int64) {
	if usec > 0 {
		time.Sleep(time.Duration(usec) * time.Microsecond)
		return
	}
	for end := time.Now().Add(time.Duration(-usec)); time.Now().Before(end); {
	}
}

// infoLoadingProgress writes INFO persistence's loading_* fields, present
// while the dataset loads.
func (s *Server) infoLoadingProgress(ib *infoBuf) {
	l := &s.load
	if !l.active.Load() && !l.async.Load() {
		return
	}
	done, total := l.loaded.Load(), l.total.Load()
	perc, eta := loadProgress(done, total, time.Since(time.Unix(0, l.startNs.Load())))
	ib.int("loading_start_time", l.start.Load())
	ib.int("loading_total_bytes", total)
	ib.int("loading_rdb_used_mem", l.usedMem.Load())
	ib.int("loading_loaded_bytes", done)
	ib.f2("loading_loaded_perc", perc, "")
	ib.int("loading_eta_seconds", eta)
}
