package commands

import (
	"crypto/sha1"
	"strconv"

	"github.com/corvid-db/corvid/internal/ds/stream"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// DEBUG DIGEST and DIGEST-VALUE fingerprint values the way Redis does, so
// that the same data gives the same digest in Corvid and in Redis (a
// replica of either, a dataset loaded from the other's RDB file). The
// fingerprint is built from SHA1 with two operations on a 20-byte state:
// XorDigest folds in the SHA1 of some bytes (order does not matter), and
// MixDigest folds them in and then hashes the state (order matters).
// Ordered collections (lists, streams) mix their elements into the key's
// state; unordered ones (sets, hashes, sorted sets) xor them, a hash field
// or a sorted-set member first digested with its value or score (the score
// written as fpconv_dtoa writes it). Encodings never show: an intset's
// members are mixed as the decimal strings SMEMBERS returns.

// XorDigest folds SHA1(b) into d.
func XorDigest(d *[20]byte, b []byte) {
	h := sha1.Sum(b)
	for i := range d {
		d[i] ^= h[i]
	}
}

// MixDigest folds b into d and hashes the result.
func MixDigest(d *[20]byte, b []byte) {
	XorDigest(d, b)
	*d = sha1.Sum(d[:])
}

// DigestValue folds the contents of e's value into d (Redis's
// xorObjectDigest without the type and expiry, which the caller mixes).
// Hash fields whose time to live has passed at now are left out.
func DigestValue(d *[20]byte, e keyspace.Entry, now int64) {
	switch e.Type() {
	case keyspace.TypeString:
		var buf [24]byte
		if n, ok := e.Int(); ok {
			MixDigest(d, strconv.AppendInt(buf[:0], n, 10))
		} else {
			MixDigest(d, e.Bytes())
		}
	case keyspace.TypeList:
		it := listOf(e).iter(0, false)
		for {
			el, ok := it.Next()
			if !ok {
				break
			}
			MixDigest(d, el)
		}
	case keyspace.TypeSet:
		s := svLoad(e)
		s.each(func(m []byte) bool { XorDigest(d, m); return true })
	case keyspace.TypeZSet:
		z := &zval{}
		z.load(e)
		var buf [32]byte
		z.walk(0, z.Len(), false, func(m []byte, score float64) {
			var el [20]byte
			MixDigest(&el, m)
			MixDigest(&el, resp.AppendFpconv(buf[:0], score))
			XorDigest(d, el[:])
		})
	case keyspace.TypeHash:
		h := hvLoad(e)
		h.each(func(f, v []byte) bool {
			if when, _ := h.ttlOf(f); when != 0 && when <= now {
				return true
			}
			var el [20]byte
			MixDigest(&el, f)
			MixDigest(&el, v)
			XorDigest(d, el[:])
			return true
		})
	case keyspace.TypeStream:
		s := e.Object().(*stream.Stream)
		var buf [48]byte
		s.Range(stream.ID{}, stream.MaxID, false, func(id stream.ID, fv [][]byte) bool {
			b := strconv.AppendUint(buf[:0], id.Ms, 10)
			b = append(b, '.')
			MixDigest(d, strconv.AppendUint(b, id.Seq, 10))
			for _, x := range fv {
				MixDigest(d, x)
			}
			return true
		})
	}
}
