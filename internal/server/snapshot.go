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

// snapshotRDBVersion is the RDB version Corvid writes: Redis 7.2's.
const snapshotRDBVersion = 11

// writeSnapshot writes the whole dataset as an RDB file (Redis 7.2's
// format): AUX fields, function libraries, then every database's keys
// with their expiry times. The caller holds every shard, so the snapshot
// is one instant of the dataset. Keys already past their expiry are left
// out, as their reclaiming would be.
//
// Why under every lock, not in the background: Redis forks and lets the
// child write a copy-on-write image; a Go process cannot fork, and a
// consistent background copy needs per-shard copy-on-write, which is
// persistence's work to come. The server stalls for the length of the
// snapshot, in proportion to the dataset.
func (s *Server) writeSnapshot(out io.Writer) error {
	fw := rdb.NewFileWriter(out, snapshotRDBVersion, s.Config.Bool("rdbchecksum"))
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
	lim := commands.DumpLimits{
		ListFill:          int(s.Config.Int("list-max-listpack-size")),
		StreamNodeEntries: int(s.Config.Int("stream-node-max-entries")),
		StreamBytes:       int(s.Config.Int("stream-node-max-bytes")),
	}
	now := time.Now().UnixMilli()
	val := rdb.NewBufferWriter(nil)
	val.Compress = fw.Compress
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
			commands.DumpValue(val, e, now, lim)
			b := val.Bytes()
			fw.Key(e.Key(), rdb.KeyMeta{ExpireAt: at, Idle: -1, Freq: -1}, b[0])
			fw.WriteRaw(b[1:])
		})
	}
	return fw.Finish()
}
