package commands

import (
	"math"
	"strconv"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// maxScanCount caps SCAN's COUNT so the keyspace's "10*count buckets" bound
// cannot overflow; no real table has that many buckets anyway.
const maxScanCount = math.MaxInt32

func keysCommand(c *command.Ctx) {
	pattern := c.Args[1]
	all := len(pattern) == 1 && pattern[0] == '*'
	now := c.DB.Now()
	// The entries alias keyspace memory, which is stable: nothing writes
	// to the database until the handler returns.
	var keys [][]byte
	c.DB.ForEach(func(e keyspace.Entry) {
		k := e.Key()
		if !all && !config.GlobMatch(pattern, k, false) {
			return
		}
		// Redis's KEYS hides expired keys without reclaiming them.
		if exp := e.ExpireAt(); exp != 0 && exp <= now {
			return
		}
		keys = append(keys, k)
	})
	c.W.ArrayLen(len(keys))
	for _, k := range keys {
		if c.OutputFull() {
			return // the client is closed unanswered
		}
		c.W.Bulk(k)
	}
}

// parseCursor accepts what Redis's strtoul-based parser does: optional sign
// (a minus wraps around, as in C), decimal digits, nothing else, and no
// leading space. The empty string is cursor 0.
func parseCursor(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	i, neg := 0, false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(d))/10 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	if neg {
		v = -v
	}
	return v, true
}

func scanCommand(c *command.Ctx) {
	cursor, ok := parseCursor(c.Args[1])
	if !ok {
		c.Error(errInvalidCursor)
		return
	}
	count := int64(10)
	var pattern []byte
	var typeName []byte
	for i := 2; i < len(c.Args); i += 2 {
		opt := c.Args[i]
		if i+1 >= len(c.Args) {
			c.Error(command.ErrSyntax)
			return
		}
		switch {
		case equalFold(opt, "count"):
			n, ok := resp.ParseInt(c.Args[i+1])
			if !ok {
				c.Error(command.ErrNotInteger)
				return
			}
			if n < 1 {
				c.Error(command.ErrSyntax)
				return
			}
			count = n
		case equalFold(opt, "match"):
			pattern = c.Args[i+1]
			if len(pattern) == 1 && pattern[0] == '*' {
				pattern = nil
			}
		case equalFold(opt, "type"):
			typeName = c.Args[i+1]
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}

	// Step 1: walk the table, collecting (copies of) matching names. The
	// walk must not change the table, or the cursor guarantee breaks.
	buf := c.Scratch[:0]
	var ends []int
	next := c.DB.Scan(cursor, int(min(count, maxScanCount)), func(e keyspace.Entry) {
		k := e.Key()
		if pattern != nil && !config.GlobMatch(pattern, k, false) {
			return
		}
		buf = append(buf, k...)
		ends = append(ends, len(buf))
	})

	// Step 2: drop expired keys (reclaiming them now that the walk is over)
	// and, with TYPE, keys of other types. Like Redis 7.2, an unknown type
	// name matches nothing rather than being an error.
	want, known := typeByName(typeName)
	rdb := readDB(c)
	kept := ends[:0]
	start := 0
	out := buf[:0]
	for _, end := range ends {
		k := buf[start:end]
		start = end
		if typeName != nil {
			e, ok := rdb.LookupRead(k)
			if !ok || !known || e.Type() != want {
				continue
			}
		} else if !c.DB.Exists(k) {
			continue
		}
		// Compact in place: out never overtakes the key being read.
		out = append(out, k...)
		kept = append(kept, len(out))
	}

	c.W.ArrayLen(2)
	var tmp [20]byte
	c.W.Bulk(strconv.AppendUint(tmp[:0], next, 10))
	c.W.ArrayLen(len(kept))
	start = 0
	for _, end := range kept {
		c.W.Bulk(out[start:end])
		start = end
	}
	if cap(buf) > maxRetainedScratch {
		// A page of long keys (they may be megabytes each) is not kept
		// for the connection's next command.
		buf = nil
	}
	c.Scratch = buf[:0]
}

// maxRetainedScratch is the largest scratch buffer SCAN leaves to its
// connection.
const maxRetainedScratch = 64 << 10

// typeByName maps a TYPE option to a value type, case-insensitively.
func typeByName(name []byte) (keyspace.Type, bool) {
	for t := keyspace.TypeString; t <= keyspace.TypeStream; t++ {
		if equalFold(name, t.String()) {
			return t, true
		}
	}
	return keyspace.TypeNone, false
}
