package commands

import (
	"strconv"

	"github.com/zeebo/xxh3"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// Redis's limits on how strings are stored: integers of at most 20 bytes
// (LONG_STR_SIZE-1) are kept as numbers, strings up to 44 bytes
// (OBJ_ENCODING_EMBSTR_SIZE_LIMIT) share one allocation with their header.
const (
	strMaxIntLen    = 20
	strEmbstrLimit  = 44
	strDefaultLimit = 512 << 20 // proto-max-bulk-len's default
)

// strKW reports whether arg is the keyword kw (upper-case ASCII letters),
// compared case-insensitively without allocating. Setting bit 0x20 maps an
// upper-case letter to its lower-case form and leaves lower-case letters
// alone; for letter-only keywords no other byte can match.
func strKW(arg []byte, kw string) bool {
	if len(arg) != len(kw) {
		return false
	}
	for i := 0; i < len(arg); i++ {
		if arg[i]|0x20 != kw[i]|0x20 {
			return false
		}
	}
	return true
}

// strStore stores val under key the way Redis's tryObjectEncoding would
// leave it: int-encoded if it is a canonical 64-bit integer of at most 20
// bytes, embstr up to 44 bytes, raw beyond.
func strStore(db keyspace.DB, key, val []byte, expireAt int64) {
	if len(val) <= strMaxIntLen {
		if n, ok := resp.ParseInt(val); ok {
			db.SetInt(key, n, expireAt)
			return
		}
	}
	db.SetString(key, val, strEncoding(len(val)), expireAt)
}

// strEncoding is the encoding Redis's createStringObject picks for a
// freshly built string of n bytes (never int: INCRBYFLOAT's "3" is embstr).
func strEncoding(n int) keyspace.Encoding {
	if n <= strEmbstrLimit {
		return keyspace.EncEmbstr
	}
	return keyspace.EncRaw
}

// strBytes returns a string entry's value: the stored bytes, or an
// int-encoded value formatted into buf. The result aliases keyspace memory
// or buf and is valid until the next write.
func strBytes(e keyspace.Entry, buf []byte) []byte {
	if n, ok := e.Int(); ok {
		return strconv.AppendInt(buf[:0], n, 10)
	}
	return e.Bytes()
}

// strWriteValue replies with a string entry's value as a bulk string.
func strWriteValue(c *command.Ctx, e keyspace.Entry) {
	if n, ok := e.Int(); ok {
		c.W.BulkInt(n)
		return
	}
	c.W.Bulk(e.Bytes())
}

// strMaxLen is the largest string a command may build: Redis checks
// appends and SETRANGE against proto-max-bulk-len.
func strMaxLen(c *command.Ctx) int64 {
	if s, ok := c.Conn.(interface{ Config() *config.Config }); ok {
		if cfg := s.Config(); cfg != nil {
			return cfg.Int("proto-max-bulk-len")
		}
	}
	return strDefaultLimit
}

// strCheckLen reports whether a string of size+add bytes is allowed,
// replying with Redis's error if not (checkStringLength).
func strCheckLen(c *command.Ctx, size, add int64) bool {
	total := uint64(size) + uint64(add)
	if int64(total) > strMaxLen(c) || int64(total) < size || int64(total) < add {
		c.Error(command.ErrStringTooLong)
		return false
	}
	return true
}

// strDigest is Redis 8.4's DIGEST of a value: XXH3-64 (seed 0) of its
// bytes, written as 16 lower-case hex digits with leading zeros kept.
func strDigest(dst, val []byte) []byte {
	const hexd = "0123456789abcdef"
	h := xxh3.Hash(val)
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, hexd[(h>>uint(shift))&15])
	}
	return dst
}
