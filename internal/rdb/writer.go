package rdb

import (
	"encoding/binary"
	"io"
	"math"
	"strconv"
)

// Writer encodes RDB data, appending to a byte slice or streaming to an
// io.Writer, with a running CRC64 of everything written.
//
// Errors of the underlying io.Writer are sticky: once one happens every
// further write is a no-op and Err (and Flush) report it, so encoders can
// write a whole value and check once.
type Writer struct {
	buf    []byte
	out    io.Writer
	crc    uint64
	summed int // bytes of buf already in crc
	err    error
	total  int64

	lzf []byte // scratch for compressed strings

	// Compress makes strings longer than 20 bytes LZF-compressed when that
	// saves space (Redis's rdbcompression yes, the default).
	Compress bool
	// NoChecksum spares a streaming Writer the CRC64 of what it writes,
	// when what it writes is summed where it ends up (Sum then means
	// nothing).
	NoChecksum bool
}

// maxLZFScratch is the largest compression buffer a Writer keeps from one
// string to the next.
const maxLZFScratch = 1 << 20

// flushAt is how much a streaming Writer buffers before writing through.
const flushAt = 64 << 10

// NewBufferWriter returns a Writer appending to dst.
func NewBufferWriter(dst []byte) *Writer {
	return &Writer{buf: dst, summed: len(dst), Compress: true}
}

// Reset makes w a buffer Writer appending to dst, with compression on,
// so that one Writer serves many values (a snapshot encodes millions).
func (w *Writer) Reset(dst []byte) {
	*w = Writer{buf: dst, summed: len(dst), Compress: true, lzf: w.lzf[:0]}
}

// NewWriter returns a Writer streaming to out (call Flush at the end).
func NewWriter(out io.Writer) *Writer {
	return &Writer{buf: make([]byte, 0, flushAt+1024), out: out, Compress: true}
}

// Bytes returns what a buffer Writer holds (the bytes not yet flushed,
// for a streaming one).
func (w *Writer) Bytes() []byte { return w.buf }

// Written returns the number of bytes written so far.
func (w *Writer) Written() int64 { return w.total }

// Err returns the first error of the underlying io.Writer.
func (w *Writer) Err() error { return w.err }

// Sum returns Redis's CRC64 of everything written so far.
func (w *Writer) Sum() uint64 {
	if w.NoChecksum {
		w.summed = len(w.buf)
		return 0
	}
	w.crc = UpdateCRC64(w.crc, w.buf[w.summed:])
	w.summed = len(w.buf)
	return w.crc
}

// Flush writes buffered bytes through to the io.Writer.
func (w *Writer) Flush() error {
	if w.out == nil || w.err != nil {
		return w.err
	}
	w.Sum()
	if len(w.buf) > 0 {
		if _, err := w.out.Write(w.buf); err != nil {
			w.err = err
		}
	}
	w.buf = w.buf[:0]
	w.summed = 0
	return w.err
}

func (w *Writer) wrote(n int) {
	w.total += int64(n)
	if w.out != nil && len(w.buf) >= flushAt {
		w.Flush()
	}
}

// WriteRaw writes p as is.
func (w *Writer) WriteRaw(p []byte) {
	if w.err != nil {
		return
	}
	if w.out != nil && len(p) > flushAt {
		w.Flush()
		if !w.NoChecksum {
			w.crc = UpdateCRC64(w.crc, p)
		}
		if _, err := w.out.Write(p); err != nil && w.err == nil {
			w.err = err
		}
		w.total += int64(len(p))
		return
	}
	w.buf = append(w.buf, p...)
	w.wrote(len(p))
}

// writeSmall writes p, a few bytes of the caller's stack, as is. Unlike
// WriteRaw it never hands p to the io.Writer, so p does not escape and
// encoding a record allocates nothing.
func (w *Writer) writeSmall(p []byte) {
	if w.err == nil {
		w.buf = append(w.buf, p...)
		w.wrote(len(p))
	}
}

// WriteByte writes one byte (a type or an opcode). It never fails: an
// error is reported by Err.
func (w *Writer) WriteByte(b byte) error {
	if w.err == nil {
		w.buf = append(w.buf, b)
		w.wrote(1)
	}
	return nil
}

// AppendLen appends an RDB length to b.
func AppendLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(len6<<6|n))
	case n < 1<<14:
		return append(b, byte(len14<<6|n>>8), byte(n))
	case n <= math.MaxUint32:
		b = append(b, len32)
		return binary.BigEndian.AppendUint32(b, uint32(n))
	default:
		b = append(b, len64)
		return binary.BigEndian.AppendUint64(b, n)
	}
}

// WriteLen writes an RDB length.
func (w *Writer) WriteLen(n uint64) {
	var b [9]byte
	w.writeSmall(AppendLen(b[:0], n))
}

// intEncoding returns the integer encoding of s when s is the canonical
// decimal form of a value that fits 32 bits (rdbTryIntegerEncoding).
func intEncoding(dst []byte, s []byte) ([]byte, bool) {
	if len(s) == 0 || len(s) > 11 {
		return dst, false
	}
	// Parsed by hand: strconv.ParseInt allocates its error, and most
	// strings a snapshot meets are not numbers.
	neg := s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	if len(digits) == 0 || (digits[0] == '0' && (len(digits) > 1 || neg)) {
		return dst, false // "", "-", leading zeros, "-0": not canonical
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return dst, false
		}
		v = v*10 + int64(c-'0') // at most 11 characters: no overflow
	}
	if neg {
		v = -v
	}
	return appendIntEncoded(dst, v)
}

func appendIntEncoded(dst []byte, v int64) ([]byte, bool) {
	switch {
	case v >= math.MinInt8 && v <= math.MaxInt8:
		return append(dst, encVal<<6|encInt8, byte(v)), true
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return binary.LittleEndian.AppendUint16(append(dst, encVal<<6|encInt16), uint16(v)), true
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return binary.LittleEndian.AppendUint32(append(dst, encVal<<6|encInt32), uint32(v)), true
	}
	return dst, false
}

// WriteString writes a string, integer-encoded when it is a small
// canonical integer and LZF-compressed when Compress is set and that pays.
func (w *Writer) WriteString(s []byte) {
	var b [16]byte
	if enc, ok := intEncoding(b[:0], s); ok {
		w.writeSmall(enc)
		return
	}
	w.writeBlob(s)
}

// WriteRawString writes a string without trying the integer encoding
// (blobs such as listpacks, which Redis saves with rdbSaveRawString;
// compression still applies).
func (w *Writer) WriteRawString(s []byte) {
	w.writeBlob(s)
}

// WriteInt writes an integer as an RDB string (integer-encoded when it
// fits 32 bits, decimal otherwise).
func (w *Writer) WriteInt(v int64) {
	var b [24]byte
	if enc, ok := appendIntEncoded(b[:0], v); ok {
		w.writeSmall(enc)
		return
	}
	d := strconv.AppendInt(b[:0], v, 10)
	var h [1]byte
	w.writeSmall(AppendLen(h[:0], uint64(len(d))))
	w.writeSmall(d)
}

// WriteBinaryDouble writes a double as 8 little-endian IEEE bytes (ZSET_2).
func (w *Writer) WriteBinaryDouble(f float64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(f))
	w.writeSmall(b[:])
}

// WriteDouble writes a double in the old string form (ZSET): a length
// byte and %.17g, with 253/254/255 for NaN, +inf and -inf.
func (w *Writer) WriteDouble(f float64) {
	switch {
	case math.IsNaN(f):
		w.WriteByte(253)
	case math.IsInf(f, 1):
		w.WriteByte(254)
	case math.IsInf(f, -1):
		w.WriteByte(255)
	default:
		var b [40]byte
		d := strconv.AppendFloat(b[1:1], f, 'g', 17, 64)
		b[0] = byte(len(d))
		w.writeSmall(b[:1+len(d)])
	}
}

// WriteMillis writes a Unix time in ms as 8 little-endian bytes.
func (w *Writer) WriteMillis(ms int64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(ms))
	w.writeSmall(b[:])
}

// AppendFooter appends the DUMP footer (RDB version, CRC64 of everything
// before it, both little endian) to payload.
func AppendFooter(payload []byte, version int) []byte {
	payload = append(payload, byte(version), byte(version>>8))
	return binary.LittleEndian.AppendUint64(payload, CRC64(payload))
}

// VerifyFooter checks a DUMP payload's footer as Redis's
// verifyDumpPayload does (version not newer than MaxVersion, matching
// CRC64) and returns the payload without it.
func VerifyFooter(p []byte) ([]byte, int, bool) {
	if len(p) < 10 {
		return nil, 0, false
	}
	f := p[len(p)-10:]
	ver := int(f[0]) | int(f[1])<<8
	if ver > MaxVersion {
		return nil, ver, false
	}
	if CRC64(p[:len(p)-8]) != binary.LittleEndian.Uint64(f[2:]) {
		return nil, ver, false
	}
	return p[:len(p)-10], ver, true
}

// writeBlob writes s as a length-prefixed string, LZF-compressed when
// compression is on, s is longer than 20 bytes and that saves space.
func (w *Writer) writeBlob(s []byte) {
	if w.Compress && len(s) > 20 {
		// The scratch is kept whether compression pays or not: most
		// values of a snapshot are alike, and a fresh one per value would
		// make a value's worth of garbage each time it does not.
		scratch := w.lzf
		if cap(scratch) < len(s)-4 {
			scratch = make([]byte, 0, len(s))
		}
		c := lzfCompress(scratch, s, len(s)-4)
		if cap(scratch) <= maxLZFScratch {
			w.lzf = scratch[:0]
		}
		if c != nil {
			var hdr [20]byte
			h := append(hdr[:0], encVal<<6|encLZF)
			h = AppendLen(h, uint64(len(c)))
			h = AppendLen(h, uint64(len(s)))
			w.writeSmall(h)
			w.WriteRaw(c)
			return
		}
	}
	w.WriteLen(uint64(len(s)))
	w.WriteRaw(s)
}
