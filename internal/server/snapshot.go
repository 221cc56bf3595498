package server

import (
	"errors"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/commands"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/rdb"
)

// RDB snapshots, in Redis 7.2's layouts: AUX fields, function libraries,
// then every database's keys with their expiry times. As in Redis, keys
// already past their expiry are written too (a primary loading the file
// drops and counts them, a replica keeps them for its primary's DEL);
// hashes whose every field has expired are left out.
//
// Two ways to take one, with one encoder (rdbSink.Save):
//
//   - In the background (BGSAVE, save points, a replica's full
//     synchronisation, an AOF rewrite): keyspace.Snapshot fixes the
//     instant under every shard lock, for microseconds, and a walker
//     saves the records in small batches under one shard lock at a time
//     while commands run; a command about to change a record not saved
//     yet saves it first (keyspace/snapshot.go has the design). The
//     encoded records queue in the sink and a writer goroutine streams
//     them out; the walker waits while more than sinkQueueLimit bytes
//     are queued, so memory stays bounded by what changes meanwhile.
//   - In the foreground, every shard held for the whole save (SAVE, the
//     save before SHUTDOWN, after FLUSHALL, DEBUG RELOAD), as Redis's
//     rdbSave blocks its only thread: the records go straight to the file.
//
// The header says the oldest RDB version that defines every type written
// (the rdb package doc says how it is chosen and why): Redis 7.0's 10
// unless a value needs 7.2's or 7.4's. A file's label is corrected at the
// end; a stream (a replica's diskless synchronisation) is labelled from a
// pass over the keyspace made shard by shard just before the instant.

// sinkChunkSize is how many encoded bytes the sink gathers per chunk.
const sinkChunkSize = 256 << 10

// sinkQueueLimit is how many encoded bytes may wait for the writer before
// the walker pauses.
const sinkQueueLimit = 8 << 20

// snapshotBatch is how many records the walker saves per shard lock.
const snapshotBatch = 32

// bigValueLen is the element count from which a collection is serialised
// with no shard lock held (keyspace.Saver.Big): about 0.1 ms of encoding.
const bigValueLen = 2048

// cowSamples is how many elements of a collection copied out for a
// command are sampled to size it (MEMORY USAGE's default).
const cowSamples = 5

// bigStringLen is the same for a string value, in bytes.
const bigStringLen = 1 << 20

// rdbSink encodes a snapshot's records (keyspace.Saver) for one RDB file.
type rdbSink struct {
	at       int64
	lim      commands.DumpLimits
	compress bool

	// keyDelay is rdb-key-save-delay (µs per key; negative: ns of busy
	// wait), which Redis's tests use to make a save last; saved counts
	// the keys since the walker's last pause, which pays for them.
	keyDelay int64
	saved    atomic.Int64
	snap     *keyspace.Snapshot // the background snapshot it serves, if any
	// cowBytes counts the records the snapshot copied out for commands
	// about to change them, at their size in memory: what a fork would
	// have duplicated, Corvid's counterpart of its copy-on-write (INFO
	// current_cow_size). Encoded sizes would say less than a fork's
	// figure for the same writes (compression, shared headers), and
	// operators compare the two.
	cowBytes atomic.Int64

	mu        sync.Mutex
	keyWriter rdb.Writer // encodes key headers into the current chunk; mu held
	moved     *sync.Cond // the queue changed: chunks added or written
	direct    *rdb.FileWriter
	lastDB    int
	sized     map[int]bool // databases whose RESIZEDB hint is written
	sizes     map[int][2]uint64
	queue     []sinkChunk
	queued    int
	cur       sinkChunk
	closed    bool
	aborted   bool
}

// sinkChunk is a run of encoded keys of one database.
type sinkChunk struct {
	db   int
	need int // the RDB version they need
	b    []byte
}

// encoderPool holds the Writers values are encoded with, and chunkPool
// the sink's chunk buffers: a snapshot of millions of keys would
// otherwise make a garbage object per key and a 256 KiB one per chunk,
// and the collector's work and the heap's growth with them.
var (
	encoderPool = sync.Pool{New: func() any { return rdb.NewBufferWriter(make([]byte, 0, 4096)) }}
	chunkPool   = sync.Pool{New: func() any { b := make([]byte, 0, sinkChunkSize+4096); return &b }}
)

func newRDBSink(at int64, lim commands.DumpLimits, compress bool) *rdbSink {
	k := &rdbSink{at: at, lim: lim, compress: compress, lastDB: -1, cur: sinkChunk{db: -1},
		sized: map[int]bool{}, sizes: map[int][2]uint64{}}
	k.moved = sync.NewCond(&k.mu)
	return k
}

// Save encodes one key (keyspace.Saver).
func (k *rdbSink) Save(db int, e keyspace.Entry, changed bool) {
	if k.direct == nil && bigValue(e) {
		k.saveBig(db, e, changed)
		return
	}
	vw := encoderPool.Get().(*rdb.Writer)
	vw.Reset(vw.Bytes()[:0])
	vw.Compress = k.compress
	ver := commands.DumpValue(vw, e, k.at, k.lim)
	b := vw.Bytes()
	if ver != 0 {
		if k.keyDelay != 0 {
			if k.direct != nil {
				debugDelay(k.keyDelay) // a foreground save blocks anyway, as Redis's
			} else {
				k.saved.Add(1)
			}
		}
		if changed {
			k.cowBytes.Add(e.MemoryUsage(cowSamples))
		}
		k.mu.Lock()
		if k.direct != nil {
			k.selectLocked(k.direct, db)
			k.direct.Key(e.Key(), rdb.KeyMeta{ExpireAt: e.ExpireAt(), Idle: -1, Freq: -1}, b[0])
			k.direct.WriteRaw(b[1:])
		} else {
			if k.cur.db != db || len(k.cur.b) >= sinkChunkSize {
				k.pushLocked()
				k.cur = sinkChunk{db: db, b: (*chunkPool.Get().(*[]byte))[:0]}
			}
			kw := &k.keyWriter
			kw.Reset(k.cur.b)
			kw.Compress = k.compress
			kw.KeyHeader(e.Key(), rdb.KeyMeta{ExpireAt: e.ExpireAt(), Idle: -1, Freq: -1}, b[0])
			kw.WriteRaw(b[1:])
			k.cur.b = kw.Bytes()
			k.cur.need = max(k.cur.need, ver)
		}
		k.mu.Unlock()
	}
	if cap(b) <= 64<<10 {
		vw.Reset(b[:0])
		encoderPool.Put(vw)
	}
}

// saveBig is Save for a big value, which it encodes straight into the
// sink's pooled chunks and queues as they are: encoded into one buffer
// and then copied into a chunk, a value of n bytes made about 4n bytes of
// garbage (the buffer's and the chunk's growth by doubling), and the
// collector's cycles with it, while clients were being served.
func (k *rdbSink) saveBig(db int, e keyspace.Entry, changed bool) {
	var cw chunkWriter
	w := rdb.NewWriter(&cw)
	w.Compress = k.compress
	w.NoChecksum = true // the file's writer sums what it writes
	ver := commands.DumpValue(w, e, k.at, k.lim)
	_ = w.Flush()
	if ver == 0 || cw.n == 0 {
		cw.free()
		return
	}
	if k.keyDelay != 0 {
		k.saved.Add(1)
	}
	if changed {
		k.cowBytes.Add(int64(cw.n + len(e.Key())))
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	// The key's header and the value's first chunk (less its type byte)
	// go into a chunk of their own; the other chunks follow as they are,
	// so that nothing else comes between them.
	k.pushLocked()
	first := cw.chunks[0]
	kw := &k.keyWriter
	kw.Reset((*chunkPool.Get().(*[]byte))[:0])
	kw.KeyHeader(e.Key(), rdb.KeyMeta{ExpireAt: e.ExpireAt(), Idle: -1, Freq: -1}, first[0])
	kw.WriteRaw(first[1:])
	k.cur = sinkChunk{db: db, need: ver, b: kw.Bytes()}
	first = first[:0]
	chunkPool.Put(&first)
	for _, c := range cw.chunks[1:] {
		k.pushLocked()
		k.cur = sinkChunk{db: db, need: ver, b: c}
	}
}

// chunkWriter collects what is written to it in the sink's pooled chunks.
type chunkWriter struct {
	chunks [][]byte
	n      int
}

func (cw *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		last := len(cw.chunks) - 1
		if last < 0 || len(cw.chunks[last]) >= sinkChunkSize {
			cw.chunks = append(cw.chunks, (*chunkPool.Get().(*[]byte))[:0])
			last++
		}
		c := cw.chunks[last]
		k := min(len(p), sinkChunkSize-len(c))
		cw.chunks[last] = append(c, p[:k]...)
		p = p[k:]
	}
	cw.n += n
	return n, nil
}

// free gives the chunks back to the pool.
func (cw *chunkWriter) free() {
	for _, c := range cw.chunks {
		c = c[:0]
		chunkPool.Put(&c)
	}
	cw.chunks = nil
}

// Big is keyspace.Saver's: whether e's value is encoded with no lock held.
func (k *rdbSink) Big(e keyspace.Entry) bool { return bigValue(e) }

// bigValue reports whether e's value takes long to encode.
func bigValue(e keyspace.Entry) bool {
	switch o := e.Object().(type) {
	case nil:
		return false
	case interface{ Len() int }:
		return o.Len() >= bigValueLen
	case interface{ Len() uint64 }:
		return o.Len() >= bigValueLen
	}
	return e.Type() == keyspace.TypeString && e.StrLen() >= bigStringLen
}

// selectLocked switches fw to database db, with RESIZEDB's hints the
// first time; k.mu is held.
func (k *rdbSink) selectLocked(fw *rdb.FileWriter, db int) {
	if db == k.lastDB {
		return
	}
	k.lastDB = db
	if k.sized[db] {
		fw.SelectDBOnly(db)
		return
	}
	k.sized[db] = true
	sz := k.sizes[db]
	fw.SelectDB(db, sz[0], sz[1])
}

// pushLocked queues the current chunk; k.mu is held.
func (k *rdbSink) pushLocked() {
	if len(k.cur.b) == 0 {
		return
	}
	k.queue = append(k.queue, k.cur)
	k.queued += len(k.cur.b)
	k.cur = sinkChunk{db: -1}
	k.moved.Broadcast()
}

// pause is the walker's back-pressure: it waits while the writer is
// behind by more than sinkQueueLimit, and for rdb-key-save-delay.
func (k *rdbSink) pause() {
	if k.keyDelay > 0 {
		// In slices, so that a snapshot stopped meanwhile ends at once.
		for left := time.Duration(k.saved.Swap(0)*k.keyDelay) * time.Microsecond; left > 0 && !k.stopped(); left -= 10 * time.Millisecond {
			time.Sleep(min(left, 10*time.Millisecond))
		}
	} else if k.keyDelay < 0 {
		debugDelay(k.saved.Swap(0) * k.keyDelay)
	}
	k.mu.Lock()
	for k.queued > sinkQueueLimit && !k.aborted {
		k.moved.Wait()
	}
	k.mu.Unlock()
}

// stopped reports whether the sink or its snapshot was stopped.
func (k *rdbSink) stopped() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.aborted || (k.snap != nil && k.snap.Aborted())
}

// close says no more records come.
func (k *rdbSink) close() {
	k.mu.Lock()
	k.pushLocked()
	k.closed = true
	k.moved.Broadcast()
	k.mu.Unlock()
}

// abort makes drain stop and the walker stop waiting.
func (k *rdbSink) abort() {
	k.mu.Lock()
	k.aborted = true
	k.moved.Broadcast()
	k.mu.Unlock()
}

// errSnapshotAborted is what a snapshot's writer returns when the
// snapshot was stopped (FLUSHALL, SHUTDOWN, a replica that went away).
var errSnapshotAborted = errors.New("snapshot aborted")

// drain writes queued chunks to fw until the sink is closed.
func (k *rdbSink) drain(fw *rdb.FileWriter) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for {
		for len(k.queue) == 0 && !k.closed && !k.aborted {
			k.moved.Wait()
		}
		if k.aborted {
			return errSnapshotAborted
		}
		if len(k.queue) == 0 {
			return fw.Err()
		}
		batch := k.queue
		k.queue = nil
		for _, ch := range batch {
			k.selectLocked(fw, ch.db)
			k.mu.Unlock()
			fw.Records(ch.b, ch.need)
			if cap(ch.b) <= 2*sinkChunkSize {
				b := ch.b[:0]
				chunkPool.Put(&b)
			}
			k.mu.Lock()
			k.queued -= len(ch.b)
			k.moved.Broadcast()
		}
		if err := fw.Err(); err != nil {
			return err
		}
	}
}

// snapshotHeader is what an RDB file holds before its keys, taken at the
// snapshot's instant.
type snapshotHeader struct {
	functions []string
	ctime     int64
	usedMem   int64
	// The replication position of the instant (AUX repl-id, repl-offset,
	// repl-stream-db), from which a restarted server continues with a
	// partial resynchronisation, as Redis's does.
	replID   string
	replOff  int64
	streamDB int
}

// header reads the snapshot header; every shard is held.
func (s *Server) header() snapshotHeader {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.prop.mu.Lock()
	off, db := s.prop.offset, max(s.prop.lastDB, 0)
	s.prop.mu.Unlock()
	return snapshotHeader{functions: s.functions.Dump(), ctime: time.Now().Unix(), usedMem: int64(ms.HeapAlloc),
		replID: s.admin().replicationID(), replOff: off, streamDB: db}
}

// startFile writes the RDB header and AUX fields to out.
func (s *Server) startFile(out io.Writer, label int, h snapshotHeader) *rdb.FileWriter {
	fw := rdb.NewFileWriter(out, label, s.Config.Bool("rdbchecksum"))
	fw.Compress = s.Config.Bool("rdbcompression")
	fw.Aux("redis-ver", Version)
	fw.AuxInt("redis-bits", strconv.IntSize)
	fw.AuxInt("ctime", h.ctime)
	fw.AuxInt("used-mem", h.usedMem)
	fw.AuxInt("repl-stream-db", int64(h.streamDB))
	fw.Aux("repl-id", h.replID)
	fw.AuxInt("repl-offset", h.replOff)
	fw.AuxInt("aof-base", 0)
	for _, code := range h.functions {
		fw.Function([]byte(code))
	}
	return fw
}

// newSink makes a sink for a snapshot at instant now, with each
// database's RESIZEDB hints; every shard is held.
func (s *Server) newSink(now int64) *rdbSink {
	k := newRDBSink(now, commands.DumpLimitsOf(s.Config), s.Config.Bool("rdbcompression"))
	k.keyDelay = s.Config.Int("rdb-key-save-delay")
	for i := 0; i < s.Store.Databases(); i++ {
		db := s.Store.DB(i)
		if n := db.Len(); n > 0 {
			k.sizes[i] = [2]uint64{uint64(n), uint64(db.ExpiresLen())}
		}
	}
	return k
}

// writeSnapshot writes the whole dataset to out in the foreground: every
// shard is held, for the length of the save.
func (s *Server) writeSnapshot(out io.Writer) error {
	now := time.Now().UnixMilli()
	label := rdb.MinVersion
	if !rdb.CanRelabel(out) {
		label = s.snapshotVersion(now, false)
	}
	fw := s.startFile(out, label, s.header())
	k := s.newSink(now)
	k.direct = fw
	for i := 0; i < s.Store.Databases(); i++ {
		db := s.Store.DB(i).At(now)
		db.ForEach(func(e keyspace.Entry) { k.Save(i, e, false) })
	}
	return fw.Finish()
}

// snapshotVersion is the version a snapshot's keys will need, found by
// deciding every value's layout without encoding it: the label of a
// snapshot whose header cannot be corrected afterwards. With shardwise,
// the caller holds no shard and each is locked in turn (a key made
// meanwhile could need more, which fails that snapshot's writer);
// otherwise every shard is held.
func (s *Server) snapshotVersion(now int64, shardwise bool) int {
	lim := commands.DumpLimitsOf(s.Config)
	v := rdb.MinVersion
	for sh := 0; sh < keyspace.NumShards && v < rdb.MaxVersion; sh++ {
		if shardwise {
			s.Store.LockShard(sh)
		}
		for i := 0; i < s.Store.Databases(); i++ {
			s.Store.DB(i).At(now).ForEachInShard(sh, func(e keyspace.Entry) {
				v = max(v, commands.DumpVersion(e, now, lim))
			})
		}
		if shardwise {
			s.Store.UnlockShard(sh)
		}
	}
	return v
}

// bgSnapshot is a snapshot taken in the background.
type bgSnapshot struct {
	sn        *keyspace.Snapshot
	sink      *rdbSink
	header    snapshotHeader
	gcPercent int // GOGC before the snapshot, restored after it
	gcOnce    sync.Once
	// lastCOW receives its copy-on-write bytes when it ends: INFO's
	// rdb_last_cow_size, or aof_last_cow_size for an AOF rewrite's.
	lastCOW *atomic.Int64
}

// stop ends the snapshot early: its walker stops and write returns
// errSnapshotAborted (a save child died).
func (b *bgSnapshot) stop() {
	b.sn.Cancel()
	b.sink.abort()
}

// restoreGC puts GOGC back as it was before the snapshot, once.
func (b *bgSnapshot) restoreGC() { b.gcOnce.Do(func() { debug.SetGCPercent(b.gcPercent) }) }

// snapshotGCPercent is GOGC while a background snapshot is written.
const snapshotGCPercent = 25

// snapshotProgress reports the running background snapshot for INFO:
// keys saved and keys at its instant, and its copy-on-write bytes.
func (s *Server) snapshotProgress() (processed, total, cow int64) {
	b := s.runningSnap.Load()
	if b == nil {
		return 0, 0, 0
	}
	processed, total = b.sn.Progress()
	return processed, total, b.sink.cowBytes.Load()
}

// beginBgSnapshot fixes a background snapshot's instant; every shard is
// held. The caller then runs write, once.
func (s *Server) beginBgSnapshot() (*bgSnapshot, error) {
	began := time.Now()
	defer func() {
		// INFO's latest_fork_usec: how long every client waited for the
		// instant (and for the save child, started just before).
		s.Stats.LatestForkUsec.Store(time.Since(began).Microseconds() + s.spawnUsec.Swap(0))
	}()
	now := began.UnixMilli()
	k := s.newSink(now)
	sn, err := s.Store.BeginSnapshot(now, k)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.snap = sn
	k.mu.Unlock()
	b := &bgSnapshot{sn: sn, sink: k, header: s.header(), lastCOW: &s.lastCOW}
	s.Stats.Forks.Add(1)
	s.runningSnap.Store(b)
	// Encoding makes short-lived buffers (a big value's is as big as the
	// value): the collector runs sooner meanwhile, so the heap's growth
	// stays a small share of the dataset (INFO's PSS criterion: 1.1x).
	b.gcPercent = debug.SetGCPercent(snapshotGCPercent)
	return b, nil
}

// write walks the snapshot and writes it to out as an RDB file labelled
// label (0: the oldest version that fits, when out can be relabelled),
// with no shard lock held by the caller.
func (b *bgSnapshot) write(s *Server, out io.Writer, label int) error {
	go func() {
		b.sn.Walk(snapshotBatch, b.sink.pause)
		if b.sn.Aborted() {
			b.sink.abort()
		} else {
			b.sink.close()
		}
	}()
	defer s.runningSnap.CompareAndSwap(b, nil)
	defer b.restoreGC()
	defer func() { b.lastCOW.Store(b.sink.cowBytes.Load()) }()
	fw := s.startFile(out, label, b.header)
	err := b.sink.drain(fw)
	if err != nil {
		// Stop the walker, which may be waiting for room in the queue.
		b.sn.Cancel()
		b.sink.abort()
		<-b.sn.Done()
		return err
	}
	<-b.sn.Done()
	if b.sn.Aborted() {
		return errSnapshotAborted
	}
	return fw.Finish()
}
