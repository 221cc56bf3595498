package server

import (
	"io"
	"runtime"
	"strconv"
	"time"

	"github.com/corvid-db/corvid/internal/commands"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/rdb"
)

// writeSnapshot writes the whole dataset as an RDB file in Redis 7.2's
// layouts: AUX fields, function libraries, then every database's keys
// with their expiry times. The caller holds every shard, so the snapshot
// is one instant of the dataset. Keys already past their expiry are left
// out, as their reclaiming would be, and so are hashes whose every field
// has expired.
//
// The header says the oldest RDB version that defines every type written
// (the rdb package doc says how it is chosen and why): Redis 7.0's 10
// unless a value needs 7.2's or 7.4's. When out can be rewritten (every
// caller today builds the snapshot in a buffer) the FileWriter corrects
// the label at the end; otherwise a first pass over the keyspace finds it
// up front, which costs a second walk of every key.
//
// Why under every lock, not in the background: Redis forks and lets the
// child write a copy-on-write image; a Go process cannot fork, and a
// consistent background copy needs per-shard copy-on-write, which is
// persistence's work to come. The server stalls for the length of the
// snapshot, in proportion to the dataset.
func (s *Server) writeSnapshot(out io.Writer) error {
	lim := commands.DumpLimitsOf(s.Config)
	now := time.Now().UnixMilli()
	label := rdb.MinVersion
	if !rdb.CanRelabel(out) {
		label = s.snapshotVersion(now, lim)
	}
	fw := rdb.NewFileWriter(out, label, s.Config.Bool("rdbchecksum"))
	fw.Compress = s.Config.Bool("rdbcompression")
	fw.Aux("redis-ver", Version)
	fw.AuxInt("redis-bits", strconv.IntSize)
	fw.AuxInt("ctime", time.Now().Unix())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fw.AuxInt("used-mem", int64(ms.HeapAlloc))
	fw.AuxInt("aof-base", 0)
	for _, code := range s.functions.Dump() {
		fw.Function([]byte(code))
	}
	val := rdb.NewBufferWriter(nil)
	for i := 0; i < s.Store.Databases(); i++ {
		db := s.Store.DB(i).At(now)
		if db.Len() == 0 {
			continue
		}
		fw.SelectDB(i, uint64(db.Len()), uint64(db.ExpiresLen()))
		db.ForEach(func(e keyspace.Entry) {
			at := e.ExpireAt()
			if at != 0 && at <= now {
				return
			}
			val = rdb.NewBufferWriter(val.Bytes()[:0])
			val.Compress = fw.Compress
			if commands.DumpValue(val, e, now, lim) == 0 {
				return // nothing left of it
			}
			b := val.Bytes()
			fw.Key(e.Key(), rdb.KeyMeta{ExpireAt: at, Idle: -1, Freq: -1}, b[0])
			fw.WriteRaw(b[1:])
		})
	}
	return fw.Finish()
}

// snapshotVersion is the version writeSnapshot's keys will need, found
// by deciding every value's layout without encoding it: the label of a
// snapshot whose header cannot be corrected afterwards.
func (s *Server) snapshotVersion(now int64, lim commands.DumpLimits) int {
	v := rdb.MinVersion
	for i := 0; i < s.Store.Databases() && v < rdb.MaxVersion; i++ {
		db := s.Store.DB(i).At(now)
		if db.Len() == 0 {
			continue
		}
		db.ForEach(func(e keyspace.Entry) {
			if at := e.ExpireAt(); at == 0 || at > now {
				v = max(v, commands.DumpVersion(e, now, lim))
			}
		})
	}
	return v
}
