package scripting

import (
	"encoding/binary"
	"hash/crc64"
	"strconv"
)

// FUNCTION DUMP's payload is Redis's: for each library the RDB opcode
// FUNCTION2 (245) and the library's code as an RDB string, then the RDB
// version (11 for Redis 7.2) in two little-endian bytes and the CRC64
// (Jones polynomial, as Redis's crc64.c) of everything before it, in
// eight little-endian bytes. Payloads from redis-server restore here and
// the other way round; strings Redis compressed with LZF are read too.

// Constants of the RDB encoding used by the payload.
const (
	rdbVersion        = 11
	rdbOpFunction2    = 245
	rdbOpFunctionPreG = 246
	rdb6BitLen        = 0
	rdb14BitLen       = 1
	rdb32BitLen       = 0x80
	rdb64BitLen       = 0x81
	rdbEncVal         = 3
	rdbEncInt8        = 0
	rdbEncInt16       = 1
	rdbEncInt32       = 2
	rdbEncLZF         = 3
)

// ErrPayload is FUNCTION RESTORE's reply to a payload whose version or
// checksum is wrong.
const ErrPayload = "ERR DUMP payload version or checksum are wrong"

// crcTable is the Jones polynomial reflected, as Go's crc64 wants it.
var crcTable = crc64.MakeTable(0x95ac9329ac4bc9b5)

// crc64Jones is Redis's crc64(0, p): initial value 0, no final xor (Go's
// Update complements on the way in and out, hence the complements).
func crc64Jones(p []byte) uint64 {
	return ^crc64.Update(^uint64(0), crcTable, p)
}

// DumpPayload serialises library codes as FUNCTION DUMP does.
func DumpPayload(codes []string) []byte {
	var b []byte
	for _, c := range codes {
		b = append(b, rdbOpFunction2)
		b = appendRDBLen(b, uint64(len(c)))
		b = append(b, c...)
	}
	b = append(b, rdbVersion&0xff, rdbVersion>>8)
	return binary.LittleEndian.AppendUint64(b, crc64Jones(b))
}

func appendRDBLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(rdb6BitLen<<6|n))
	case n < 1<<14:
		return append(b, byte(rdb14BitLen<<6|n>>8), byte(n))
	case n <= 0xffffffff:
		b = append(b, rdb32BitLen)
		return binary.BigEndian.AppendUint32(b, uint32(n))
	default:
		b = append(b, rdb64BitLen)
		return binary.BigEndian.AppendUint64(b, n)
	}
}

// VerifyPayload checks a payload's footer as Redis's verifyDumpPayload
// does: an RDB version not newer than ours and a matching CRC64.
func VerifyPayload(p []byte) bool {
	if len(p) < 10 {
		return false
	}
	footer := p[len(p)-10:]
	if int(footer[0])|int(footer[1])<<8 > rdbVersion {
		return false
	}
	return crc64Jones(p[:len(p)-8]) == binary.LittleEndian.Uint64(footer[2:])
}

// ParsePayload decodes a verified payload into library codes; the error
// is Redis's message, without "ERR ".
func ParsePayload(p []byte) ([]string, string) {
	r := rdbReader{b: p[:len(p)-10]}
	var codes []string
	for r.pos < len(r.b) {
		t, ok := r.byte()
		if !ok {
			return nil, "can not read data type"
		}
		if t == rdbOpFunctionPreG {
			return nil, "Pre-GA function format not supported"
		}
		if t != rdbOpFunction2 {
			return nil, "given type is not a function"
		}
		s, ok := r.string()
		if !ok {
			return nil, "Failed loading library payload"
		}
		codes = append(codes, s)
	}
	return codes, ""
}

type rdbReader struct {
	b   []byte
	pos int
}

func (r *rdbReader) byte() (byte, bool) {
	if r.pos >= len(r.b) {
		return 0, false
	}
	r.pos++
	return r.b[r.pos-1], true
}

func (r *rdbReader) take(n uint64) ([]byte, bool) {
	if n > uint64(len(r.b)-r.pos) {
		return nil, false
	}
	s := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return s, true
}

// length reads an RDB length, or the encoding of a special string.
func (r *rdbReader) length() (n uint64, encoded, ok bool) {
	c, ok := r.byte()
	if !ok {
		return 0, false, false
	}
	switch c >> 6 {
	case rdb6BitLen:
		return uint64(c & 0x3f), false, true
	case rdb14BitLen:
		c2, ok := r.byte()
		return uint64(c&0x3f)<<8 | uint64(c2), false, ok
	case rdbEncVal:
		return uint64(c & 0x3f), true, true
	}
	switch c {
	case rdb32BitLen:
		s, ok := r.take(4)
		if !ok {
			return 0, false, false
		}
		return uint64(binary.BigEndian.Uint32(s)), false, true
	case rdb64BitLen:
		s, ok := r.take(8)
		if !ok {
			return 0, false, false
		}
		return binary.BigEndian.Uint64(s), false, true
	}
	return 0, false, false
}

// string reads an RDB string: plain, integer-encoded or LZF-compressed.
func (r *rdbReader) string() (string, bool) {
	n, encoded, ok := r.length()
	if !ok {
		return "", false
	}
	if !encoded {
		s, ok := r.take(n)
		return string(s), ok
	}
	switch n {
	case rdbEncInt8:
		s, ok := r.take(1)
		if !ok {
			return "", false
		}
		return strconv.Itoa(int(int8(s[0]))), true
	case rdbEncInt16:
		s, ok := r.take(2)
		if !ok {
			return "", false
		}
		return strconv.Itoa(int(int16(binary.LittleEndian.Uint16(s)))), true
	case rdbEncInt32:
		s, ok := r.take(4)
		if !ok {
			return "", false
		}
		return strconv.Itoa(int(int32(binary.LittleEndian.Uint32(s)))), true
	case rdbEncLZF:
		clen, enc1, ok1 := r.length()
		ulen, enc2, ok2 := r.length()
		if !ok1 || !ok2 || enc1 || enc2 || ulen > 1<<32 {
			return "", false
		}
		c, ok := r.take(clen)
		if !ok {
			return "", false
		}
		out, ok := lzfDecompress(c, int(ulen))
		return string(out), ok
	}
	return "", false
}

// lzfDecompress expands LZF data (the format of Redis's lzf_d.c) into
// exactly n bytes.
func lzfDecompress(in []byte, n int) ([]byte, bool) {
	out := make([]byte, 0, n)
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 { // literal run of ctrl+1 bytes
			l := ctrl + 1
			if i+l > len(in) || len(out)+l > n {
				return nil, false
			}
			out = append(out, in[i:i+l]...)
			i += l
			continue
		}
		l := ctrl >> 5
		if l == 7 {
			if i >= len(in) {
				return nil, false
			}
			l += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, false
		}
		ref := len(out) - ((ctrl&0x1f)<<8 | int(in[i])) - 1
		i++
		l += 2
		if ref < 0 || len(out)+l > n {
			return nil, false
		}
		for j := 0; j < l; j++ { // byte by byte: the reference may overlap
			out = append(out, out[ref+j])
		}
	}
	return out, len(out) == n
}
