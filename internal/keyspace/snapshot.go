package keyspace

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/corvid-db/corvid/internal/ds/slab"
)

// Snapshots: the dataset as it was at one instant, written out while
// commands keep running on every shard.
//
// Redis forks and lets the child write its copy-on-write image of memory;
// a Go process cannot fork. Corvid versions records instead, the way
// Dragonfly versions its buckets. Every record carries the epoch of the
// last snapshot that holds it. A snapshot begins under every shard lock
// (an instant: a few microseconds per table), takes the next epoch, and
// from then on a record whose epoch is older is still owed to it. A
// walker goroutine goes through the tables one shard lock at a time, in
// batches of a few dozen records, and saves (hands to the Saver) each
// record still owed. A command about to change or delete a record still
// owed saves it first, as it was, and then goes on; records made after
// the instant carry the new epoch and are never saved. Each record is
// thus saved exactly once, as it was at the instant, and the extra memory
// is the serialised form of what changed during the snapshot, not a copy
// of the dataset.
//
// What changes a record: the keyspace's own mutators (put, Delete, expiry,
// SetExpire, MoveTo…) call beforeChange; handlers that change a
// collection in place are covered by the dispatcher, which calls
// PrepareWrite or BeforeWrite for the keys a write command declares in
// the command table before it runs.
//
// A value the Saver calls big (a sorted set of a million members) would
// hold its shard lock for tens of milliseconds while it is serialised.
// Such a record is marked saved and its value busy, its shard is
// unlocked, and the value is serialised with no lock held, from a
// detached copy of the record. Reads of the value go on meanwhile; a
// write to it waits until the value is written (a top-level command
// waits without holding any lock: PrepareWrite returns the wait).
//
// A FLUSHDB or FLUSHALL during a snapshot gives the tables it empties to
// the snapshot, which saves what they still owe and frees them; SWAPDB
// moves tables, which keep the database they had at the instant.

// Saver receives a snapshot's records.
type Saver interface {
	// Save is given each key of the snapshot once, as it was at the
	// instant, with the database it was in then. It runs with the key's
	// shard locked, by the walker or, with changed set, by a command
	// about to change the key (what the snapshot then holds on the
	// command's behalf is its copy-on-write), or, for a value Big
	// reports, with no lock held on a detached copy of the record whose
	// value nobody changes meanwhile. Calls come from many goroutines at
	// once.
	Save(db int, e Entry, changed bool)
	// Big reports whether e's value (a Go object) takes long enough to
	// serialise that it should be done without the shard lock.
	Big(e Entry) bool
}

// ErrSnapshotRunning is returned by BeginSnapshot while another runs.
var ErrSnapshotRunning = errors.New("a snapshot is already in progress")

// Snapshot is a point-in-time copy of the keyspace being saved.
type Snapshot struct {
	s     *Store
	epoch uint16
	at    int64 // the instant, Unix ms
	saver Saver
	total int64        // records at the instant
	saved atomic.Int64 // records saved so far

	tables []snapTable  // the tables that had keys at the instant
	nbusy  atomic.Int32 // its values being serialised with no lock held
	idleMu sync.Mutex
	idleCh chan struct{} // closed when nbusy drops to 0

	aborted atomic.Bool
	stopped atomic.Bool // AbortSnapshot took the tables back: the walker just ends
	done    chan struct{}
}

type snapTable struct {
	shard int
	t     *table
}

// maxAbortedEpochs bounds the snapshots that may be aborted in a row
// before the next one first restamps every record: an aborted snapshot
// leaves records it did not reach with an older epoch, and the 16-bit
// epoch must not wrap around to one of them.
const maxAbortedEpochs = 1 << 15

// BeginSnapshot starts a snapshot of the dataset as it is now, whose
// records go to saver and whose expiry instant is at (Unix ms). The
// caller holds every shard; it then runs Walk (or WalkLocked) to the end,
// or aborts it. Only one snapshot runs at a time.
func (s *Store) BeginSnapshot(at int64, saver Saver) (*Snapshot, error) {
	if s.snap.Load() != nil {
		return nil, ErrSnapshotRunning
	}
	if s.abortedEpochs.Load() >= maxAbortedEpochs {
		s.restamp()
	}
	s.epoch++
	sn := &Snapshot{s: s, epoch: s.epoch, at: at, saver: saver, done: make(chan struct{})}
	for i := range s.shards {
		for d, t := range s.shards[i].dbs {
			t.epoch = s.epoch
			if t.count > 0 {
				t.snap, t.snapDB, t.pending = sn, d, t.count
				sn.tables = append(sn.tables, snapTable{i, t})
				sn.total += int64(t.count)
			}
		}
	}
	s.snap.Store(sn)
	return sn, nil
}

// restamp gives every record the current epoch; every shard is held.
func (s *Store) restamp() {
	for i := range s.shards {
		for _, t := range s.shards[i].dbs {
			for _, sl := range t.slots {
				if sl != 0 {
					hdr(slotRef(sl)).epoch = s.epoch
				}
			}
		}
	}
	s.abortedEpochs.Store(0)
}

// SnapshotRunning reports whether a snapshot is being taken.
func (s *Store) SnapshotRunning() bool { return s.snap.Load() != nil }

// At returns the snapshot's instant (Unix ms).
func (sn *Snapshot) At() int64 { return sn.at }

// Done is closed when the snapshot has saved every record or was aborted.
func (sn *Snapshot) Done() <-chan struct{} { return sn.done }

// Progress returns the records saved so far and the records at the
// instant (INFO's current_save_keys_processed and _total).
func (sn *Snapshot) Progress() (saved, total int64) { return sn.saved.Load(), sn.total }

// Aborted reports whether the snapshot was aborted.
func (sn *Snapshot) Aborted() bool { return sn.aborted.Load() }

// Walk saves every record the snapshot still owes, taking one shard lock
// at a time for at most batch records (and 8*batch slots). Between
// batches it calls pause, with no lock held, which may wait (the
// consumer's back-pressure). The caller holds no shard lock.
func (sn *Snapshot) Walk(batch int, pause func()) { sn.walk(batch, pause, false) }

// WalkLocked is Walk for a caller that holds every shard (SAVE, saving at
// shutdown): it saves everything at once, big values included.
func (sn *Snapshot) WalkLocked() { sn.walk(1<<30, nil, true) }

func (sn *Snapshot) walk(batch int, pause func(), locked bool) {
	s := sn.s
	for _, st := range sn.tables {
		t := st.t
		pos := 0
		for !sn.stopped.Load() {
			if !locked {
				s.LockShard(st.shard)
			}
			if t.snap != sn {
				if !locked {
					s.UnlockShard(st.shard)
				}
				break // aborted
			}
			var job func()
			saved, visited := 0, 0
			for saved < batch && visited < 8*batch && t.pending > 0 {
				if pos >= len(t.slots) {
					// Deletions shift records backwards, possibly behind
					// the walker; pending says when all are saved.
					pos = 0
				}
				sl := t.slots[pos]
				pos++
				visited++
				if sl == 0 {
					continue
				}
				r := slotRef(sl)
				if hdr(r).epoch == sn.epoch {
					continue
				}
				if !locked && hdr(r).flags&flagObj != 0 && sn.saver.Big(Entry{t, r}) {
					job = sn.deferRecord(t, r, false)
					break
				}
				sn.saveRecord(t, r, false)
				saved++
			}
			finished := t.pending == 0
			if finished {
				sn.finishTable(t)
			}
			if !locked {
				s.UnlockShard(st.shard)
			}
			if job != nil {
				job()
			}
			if pause != nil {
				pause()
			}
			if finished {
				break
			}
		}
	}
	sn.waitIdle()
	if s.snap.CompareAndSwap(sn, nil) {
		s.abortedEpochs.Store(0) // every record is stamped
	}
	close(sn.done)
}

// finishTable detaches a table the snapshot has saved completely; its
// shard is held.
func (sn *Snapshot) finishTable(t *table) {
	t.snap = nil
	if t.detached {
		t.release()
	}
}

// saveRecord saves r, which the snapshot still owes, for a command about
// to change it when changed; its shard is held. Keys whose time to live
// had passed at the instant are saved too, as Redis's snapshots hold
// them: a loading primary drops (and counts) them, a replica keeps them
// for its primary's DEL.
func (sn *Snapshot) saveRecord(t *table, r slab.Ref, changed bool) {
	h := hdr(r)
	h.epoch = sn.epoch
	t.pending--
	sn.saved.Add(1)
	if sn.aborted.Load() {
		return
	}
	sn.saver.Save(t.snapDB, Entry{t, r}, changed)
}

// deferRecord marks r saved and its value busy, and returns the work that
// saves it, to be run with no shard lock held; r's shard is held.
func (sn *Snapshot) deferRecord(t *table, r slab.Ref, changed bool) func() {
	h := hdr(r)
	h.epoch = sn.epoch
	t.pending--
	sn.saved.Add(1)
	if sn.aborted.Load() {
		return func() {}
	}
	obj := t.objs[h.vlen]
	done := busy.add(obj)
	sn.nbusy.Add(1)
	d := detachRecord(t, r)
	db := t.snapDB
	return func() {
		sn.saver.Save(db, d, changed)
		d.t.release()
		busy.remove(obj, done)
		if sn.nbusy.Add(-1) == 0 {
			sn.idle()
		}
	}
}

// detachRecord copies r into a table of its own that shares r's value, so
// the copy can be read with no shard lock while r's table changes.
func detachRecord(t *table, r slab.Ref) Entry {
	h := hdr(r)
	var exp int64
	if h.flags&flagTTL != 0 {
		exp = ttlHdr(r).expireAt
	}
	d := &table{}
	d.objs = []any{t.objs[h.vlen]}
	dr := d.newRecord(recordKey(r), h.meta, nil, 0, exp, h.lru)
	return Entry{d, dr}
}

// busy registers the values being serialised with no lock held, by any
// store's snapshot: a write to one waits for its channel.
var busy busyValues

type busyValues struct {
	n  atomic.Int32
	mu sync.Mutex
	m  map[any]chan struct{}
}

func (b *busyValues) add(obj any) chan struct{} {
	ch := make(chan struct{})
	b.mu.Lock()
	if b.m == nil {
		b.m = map[any]chan struct{}{}
	}
	b.m[obj] = ch
	b.n.Add(1)
	b.mu.Unlock()
	return ch
}

func (b *busyValues) remove(obj any, ch chan struct{}) {
	b.mu.Lock()
	delete(b.m, obj)
	b.n.Add(-1)
	b.mu.Unlock()
	close(ch)
}

// wait returns a channel closed when obj is no longer being serialised,
// or nil if it is not.
func (b *busyValues) wait(obj any) chan struct{} {
	if b.n.Load() == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[obj]
}

// waitBusy waits while the value of r, if it has one, is being
// serialised; r's shard is held.
func (t *table) waitBusy(r slab.Ref) {
	if h := hdr(r); h.flags&flagObj != 0 {
		if ch := busy.wait(t.objs[h.vlen]); ch != nil {
			<-ch
		}
	}
}

// idle wakes waitIdle.
func (sn *Snapshot) idle() {
	sn.idleMu.Lock()
	if sn.idleCh != nil {
		close(sn.idleCh)
		sn.idleCh = nil
	}
	sn.idleMu.Unlock()
}

// waitIdle waits until none of the snapshot's values is being serialised.
func (sn *Snapshot) waitIdle() {
	for {
		sn.idleMu.Lock()
		if sn.nbusy.Load() == 0 {
			sn.idleMu.Unlock()
			return
		}
		if sn.idleCh == nil {
			sn.idleCh = make(chan struct{})
		}
		ch := sn.idleCh
		sn.idleMu.Unlock()
		<-ch
	}
}

// beforeChange saves r, if a running snapshot still owes it, before it is
// changed or freed, and waits while its value is being serialised; r's
// shard is held.
func (t *table) beforeChange(r slab.Ref) {
	if sn := t.snap; sn != nil && hdr(r).epoch != sn.epoch {
		sn.saveRecord(t, r, true)
		return
	}
	t.waitBusy(r)
}

// AbortSnapshot stops the running snapshot, if any: nothing more is saved
// and its walker ends at its next batch. It waits for values being
// serialised with no lock held, which may not change before they are
// done. The caller holds every shard.
func (s *Store) AbortSnapshot() {
	sn := s.snap.Load()
	if sn == nil {
		return
	}
	sn.aborted.Store(true)
	sn.stopped.Store(true)
	for _, st := range sn.tables {
		if st.t.snap == sn {
			sn.finishTable(st.t)
		}
	}
	sn.waitIdle()
	s.snap.Store(nil)
	s.abortedEpochs.Add(1)
}

// Cancel stops saving: the walker goes on only to stamp the records it
// has not reached, which takes no encoding, and ends. No lock is needed
// (a writer that failed calls it).
func (sn *Snapshot) Cancel() { sn.aborted.Store(true) }

// CancelSnapshot cancels the running snapshot, if any (Cancel); no lock
// is needed.
func (s *Store) CancelSnapshot() {
	if sn := s.snap.Load(); sn != nil {
		sn.Cancel()
	}
}

// PrepareWrite readies key for a change by a command while a snapshot
// runs, and returns nil when the command may go on. Otherwise the key
// holds a big value the snapshot still needs: the caller must release
// every shard lock, run the returned function (which serialises the value
// or waits for it to be), take its locks again and call PrepareWrite
// again. Caller holds key's shard.
func (db DB) PrepareWrite(key []byte) (wait func()) {
	if db.s.snap.Load() == nil {
		return nil
	}
	h := hashKey(key)
	t := db.table(h)
	i := t.find(key, h)
	if i < 0 {
		return nil
	}
	r := slotRef(t.slots[i])
	hd := hdr(r)
	if sn := t.snap; sn != nil && hd.epoch != sn.epoch {
		if hd.flags&flagObj != 0 && sn.saver.Big(Entry{t, r}) {
			return sn.deferRecord(t, r, true)
		}
		sn.saveRecord(t, r, true)
		return nil
	}
	if hd.flags&flagObj != 0 {
		if ch := busy.wait(t.objs[hd.vlen]); ch != nil {
			return func() { <-ch }
		}
	}
	return nil
}

// BeforeWrite is PrepareWrite done at once, for a caller that cannot
// release its locks (a command inside EXEC or a script, a blocked
// command being served): a big value is serialised, or waited for, with
// the shard held. Caller holds key's shard.
func (db DB) BeforeWrite(key []byte) {
	if db.s.snap.Load() == nil {
		return
	}
	h := hashKey(key)
	t := db.table(h)
	if i := t.find(key, h); i >= 0 {
		t.beforeChange(slotRef(t.slots[i]))
	}
}
