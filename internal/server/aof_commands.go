package server

import (
	"bufio"
	"fmt"
	"github.com/corvid-db/corvid/internal/resp"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/corvid-db/corvid/internal/commands"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/rdb"
)

// A base in command format (aof-use-rdb-preamble no): the commands that
// rebuild the dataset, as Redis's rewriteAppendOnlyFileRio writes them,
// so that a Redis server (and redis-check-aof) reads Corvid's base as its
// own. In order: a "#TS:" annotation with aof-timestamp-enabled, a
// FUNCTION LOAD per library, then per database a SELECT and per key the
// commands that make the value (at most aofRewriteItemsPerCmd elements
// each, so that no command gets huge) followed by PEXPIREAT for a TTL.
//
// Values are read through their RDB form (commands.DumpValue, then
// rdb.ReadObject), the one interface the value types export: it gives
// every element, the field TTLs of hashes and a stream's groups and
// pending entries, decoded the same way whatever the encoding in memory.

// aofRewriteItemsPerCmd is Redis's AOF_REWRITE_ITEMS_PER_CMD.
const aofRewriteItemsPerCmd = 64

// appendBulkString appends s as a RESP bulk string.
func appendBulkString(dst []byte, s string) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// appendBulkInt appends n's decimal digits as a RESP bulk string.
func appendBulkInt(dst []byte, n int64) []byte {
	var b [24]byte
	return resp.AppendBulk(dst, strconv.AppendInt(b[:0], n, 10))
}

// appendBulkUint appends n's decimal digits as a RESP bulk string.
func appendBulkUint(dst []byte, n uint64) []byte {
	var b [24]byte
	return resp.AppendBulk(dst, strconv.AppendUint(b[:0], n, 10))
}

// appendBulkScore appends a sorted set score: the shortest text that
// reads back as the same double, and inf/-inf as Redis spells them.
func appendBulkScore(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return appendBulkString(dst, "inf")
	case math.IsInf(f, -1):
		return appendBulkString(dst, "-inf")
	}
	var b [32]byte
	return resp.AppendBulk(dst, strconv.AppendFloat(b[:0], f, 'g', -1, 64))
}

// appendBulkStreamID appends a stream ID as "<ms>-<seq>".
func appendBulkStreamID(dst []byte, id rdb.StreamID) []byte {
	var b [48]byte
	p := strconv.AppendUint(b[:0], id.Ms, 10)
	p = append(p, '-')
	p = strconv.AppendUint(p, id.Seq, 10)
	return resp.AppendBulk(dst, p)
}

// appendTimestampAnnotation appends the "#TS:<unix seconds>" line that
// aof-timestamp-enabled puts at the head of a base, as Redis does.
func appendTimestampAnnotation(dst []byte, unix int64) []byte {
	dst = append(dst, "#TS:"...)
	dst = strconv.AppendInt(dst, unix, 10)
	return append(dst, '\r', '\n')
}

// appendFunctionLoad appends FUNCTION LOAD of one library's code.
func appendFunctionLoad(dst, code []byte) []byte {
	dst = append(dst, "*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n"...)
	return resp.AppendBulk(dst, code)
}

// appendSelect appends SELECT db.
func appendSelect(dst []byte, db int) []byte {
	dst = append(dst, "*2\r\n$6\r\nSELECT\r\n"...)
	return appendBulkInt(dst, int64(db))
}

// appendEntryCommands appends the commands that recreate e, a key of
// database db, preceded by SELECT when db is not *lastDB (which it then
// becomes). now is the instant the dataset is taken at (hash fields
// expired by then are left out, as a snapshot leaves them out) and lim
// the settings its RDB form is written with. Nothing is appended for a
// hash whose every field has expired.
func appendEntryCommands(dst []byte, lastDB *int, db int, e keyspace.Entry, now int64, lim commands.DumpLimits) ([]byte, error) {
	w := rdb.NewBufferWriter(nil)
	if commands.DumpValue(w, e, now, lim) == 0 {
		return dst, nil
	}
	b := w.Bytes()
	o, err := rdb.ReadObject(rdb.NewReader(b[1:]), b[0])
	if err != nil {
		return dst, fmt.Errorf("key %q: %w", e.Key(), err)
	}
	if db != *lastDB {
		dst = appendSelect(dst, db)
		*lastDB = db
	}
	return appendObjectCommands(dst, e.Key(), o, e.ExpireAt()), nil
}

// appendObjectCommands appends the commands that make key hold o, then
// PEXPIREAT when expireAt (Unix ms) is not 0: Redis's rewrite*Object
// functions, with hash field TTLs as HPEXPIREAT per field.
func appendObjectCommands(dst, key []byte, o *rdb.Object, expireAt int64) []byte {
	// batches writes a variadic command (name key items...) per
	// aofRewriteItemsPerCmd items; each item is width arguments.
	batches := func(name string, items, width int, item func(dst []byte, i int) []byte) {
		for i := 0; i < items; i++ {
			if i%aofRewriteItemsPerCmd == 0 {
				n := min(items-i, aofRewriteItemsPerCmd)
				dst = resp.AppendArrayHeader(dst, 2+n*width)
				dst = appendBulkString(dst, name)
				dst = resp.AppendBulk(dst, key)
			}
			dst = item(dst, i)
		}
	}
	switch o.Kind {
	case rdb.KindString:
		dst = append(dst, "*3\r\n$3\r\nSET\r\n"...)
		dst = resp.AppendBulk(dst, key)
		dst = resp.AppendBulk(dst, o.Str)
	case rdb.KindList:
		batches("RPUSH", len(o.List), 1, func(dst []byte, i int) []byte { return resp.AppendBulk(dst, o.List[i]) })
	case rdb.KindSet:
		if len(o.Ints) > 0 {
			batches("SADD", len(o.Ints), 1, func(dst []byte, i int) []byte { return appendBulkInt(dst, o.Ints[i]) })
		} else {
			batches("SADD", len(o.Set), 1, func(dst []byte, i int) []byte { return resp.AppendBulk(dst, o.Set[i]) })
		}
	case rdb.KindZSet:
		batches("ZADD", len(o.ZSet), 2, func(dst []byte, i int) []byte {
			dst = appendBulkScore(dst, o.ZSet[i].Score)
			return resp.AppendBulk(dst, o.ZSet[i].Member)
		})
	case rdb.KindHash:
		batches("HSET", len(o.Hash), 2, func(dst []byte, i int) []byte {
			dst = resp.AppendBulk(dst, o.Hash[i].Field)
			return resp.AppendBulk(dst, o.Hash[i].Value)
		})
		for _, f := range o.Hash {
			if f.ExpireAt > 0 {
				dst = append(dst, "*6\r\n$10\r\nHPEXPIREAT\r\n"...)
				dst = resp.AppendBulk(dst, key)
				dst = appendBulkInt(dst, f.ExpireAt)
				dst = append(dst, "$6\r\nFIELDS\r\n$1\r\n1\r\n"...)
				dst = resp.AppendBulk(dst, f.Field)
			}
		}
	case rdb.KindStream:
		dst = appendStreamCommands(dst, key, o.Stream)
	}
	if expireAt != 0 {
		dst = append(dst, "*3\r\n$9\r\nPEXPIREAT\r\n"...)
		dst = resp.AppendBulk(dst, key)
		dst = appendBulkInt(dst, expireAt)
	}
	return dst
}

// appendStreamCommands appends what Redis's rewriteStreamObject writes:
// an XADD per entry (or XADD MAXLEN 0 of a dummy entry, which leaves an
// empty stream), XSETID with the last ID, the entries ever added and the
// largest deleted ID, then per group XGROUP CREATE with its last ID and
// read counter, and per consumer an XCLAIM ... FORCE per pending entry
// (with its delivery time and count) or, for a consumer with none, XGROUP
// CREATECONSUMER.
func appendStreamCommands(dst, key []byte, s *rdb.Stream) []byte {
	if len(s.Entries) > 0 {
		for _, e := range s.Entries {
			dst = resp.AppendArrayHeader(dst, 3+len(e.Fields))
			dst = append(dst, "$4\r\nXADD\r\n"...)
			dst = resp.AppendBulk(dst, key)
			dst = appendBulkStreamID(dst, e.ID)
			for _, f := range e.Fields {
				dst = resp.AppendBulk(dst, f)
			}
		}
	} else {
		dst = append(dst, "*7\r\n$4\r\nXADD\r\n"...)
		dst = resp.AppendBulk(dst, key)
		dst = append(dst, "$6\r\nMAXLEN\r\n$1\r\n0\r\n"...)
		dst = appendBulkStreamID(dst, rdb.StreamID{Ms: 0, Seq: 1})
		dst = append(dst, "$1\r\nx\r\n$1\r\ny\r\n"...)
	}
	dst = append(dst, "*7\r\n$6\r\nXSETID\r\n"...)
	dst = resp.AppendBulk(dst, key)
	dst = appendBulkStreamID(dst, s.LastID)
	dst = append(dst, "$12\r\nENTRIESADDED\r\n"...)
	dst = appendBulkUint(dst, s.EntriesAdded)
	dst = append(dst, "$12\r\nMAXDELETEDID\r\n"...)
	dst = appendBulkStreamID(dst, s.MaxDeletedID)
	for _, g := range s.Groups {
		dst = append(dst, "*7\r\n$6\r\nXGROUP\r\n$6\r\nCREATE\r\n"...)
		dst = resp.AppendBulk(dst, key)
		dst = resp.AppendBulk(dst, g.Name)
		dst = appendBulkStreamID(dst, g.LastID)
		dst = append(dst, "$11\r\nENTRIESREAD\r\n"...)
		dst = appendBulkInt(dst, g.EntriesRead)
		nacks := make(map[rdb.StreamID]rdb.StreamNACK, len(g.PEL))
		for _, n := range g.PEL {
			nacks[n.ID] = n
		}
		for _, c := range g.Consumers {
			if len(c.PEL) == 0 {
				dst = append(dst, "*5\r\n$6\r\nXGROUP\r\n$14\r\nCREATECONSUMER\r\n"...)
				dst = resp.AppendBulk(dst, key)
				dst = resp.AppendBulk(dst, g.Name)
				dst = resp.AppendBulk(dst, c.Name)
				continue
			}
			for _, id := range c.PEL {
				n := nacks[id]
				dst = append(dst, "*12\r\n$6\r\nXCLAIM\r\n"...)
				dst = resp.AppendBulk(dst, key)
				dst = resp.AppendBulk(dst, g.Name)
				dst = resp.AppendBulk(dst, c.Name)
				dst = append(dst, "$1\r\n0\r\n"...)
				dst = appendBulkStreamID(dst, id)
				dst = append(dst, "$4\r\nTIME\r\n"...)
				dst = appendBulkInt(dst, n.DeliveryTime)
				dst = append(dst, "$10\r\nRETRYCOUNT\r\n"...)
				dst = appendBulkUint(dst, n.DeliveryCount)
				dst = append(dst, "$6\r\nJUSTID\r\n$5\r\nFORCE\r\n"...)
			}
		}
	}
	return dst
}

// aofCmdFlushAt is how many bytes of commands are gathered before they
// are written out.
const aofCmdFlushAt = 64 << 10

// writeCommandBase writes the dataset as commands to out in the
// foreground: every shard is held for the whole write, as Redis's
// rewriteAppendOnlyFile blocks its thread when it makes the first base at
// start. timestamps gives the "#TS:" head line.
func (s *Server) writeCommandBase(out io.Writer, timestamps bool) error {
	now := time.Now()
	ms := now.UnixMilli()
	lim := commands.DumpLimitsOf(s.Config)
	var buf []byte
	if timestamps {
		buf = appendTimestampAnnotation(buf, now.Unix())
	}
	for _, code := range s.functions.Dump() {
		buf = appendFunctionLoad(buf, []byte(code))
	}
	var err error
	flush := func() {
		if err == nil && len(buf) > 0 {
			_, err = out.Write(buf)
		}
		buf = buf[:0]
	}
	lastDB := -1
	for i := 0; i < s.Store.Databases() && err == nil; i++ {
		s.Store.DB(i).At(ms).ForEach(func(e keyspace.Entry) {
			if err != nil {
				return
			}
			var kerr error
			if buf, kerr = appendEntryCommands(buf, &lastDB, i, e, ms, lim); kerr != nil {
				err = kerr
			}
			if len(buf) >= aofCmdFlushAt {
				flush()
			}
		})
	}
	flush()
	return err
}

// rdbToCommands reads an RDB stream from in and writes the commands that
// rebuild its dataset to out: how a background rewrite makes a command
// base from the background snapshot, which produces RDB (snapshot.go),
// with nothing held while it runs. timestamp, when not 0, is the "#TS:"
// head line's time.
func rdbToCommands(in io.Reader, out io.Writer, timestamp int64) error {
	bw := bufio.NewWriterSize(out, aofCmdFlushAt)
	var buf []byte
	if timestamp != 0 {
		buf = appendTimestampAnnotation(buf, timestamp)
	}
	lastDB, db := -1, 0
	put := func() error {
		_, err := bw.Write(buf)
		buf = buf[:0]
		return err
	}
	_, err := rdb.Load(in, &rdb.Loader{
		Function: func(code []byte) error {
			buf = appendFunctionLoad(buf, code)
			return put()
		},
		SelectDB: func(d int) error { db = d; return nil },
		Key: func(k rdb.KeyInfo, r *rdb.Reader) error {
			o, err := rdb.ReadObject(r, k.Type)
			if err != nil {
				return err
			}
			if db != lastDB {
				buf = appendSelect(buf, db)
				lastDB = db
			}
			buf = appendObjectCommands(buf, k.Key, o, k.ExpireAt)
			return put()
		},
	})
	if err == nil {
		err = put()
	}
	if err == nil {
		err = bw.Flush()
	}
	return err
}
