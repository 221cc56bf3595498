package rdb

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strconv"
)

// Reader decodes RDB data from a byte slice or an io.Reader. Every method
// returns an error (wrapping ErrCorrupt for malformed data, or the
// io.Reader's error) instead of panicking, whatever the input.
//
// Strings returned by a slice Reader alias the slice; a streaming Reader
// returns fresh copies. Either way they stay valid after later reads.
type Reader struct {
	buf []byte
	pos int
	src io.Reader // nil: buf is all the data
	crc uint64
	// summed is how much of buf[:pos] is already in crc.
	summed int
	total  int64
	srcErr error
}

// NewReader returns a Reader over data.
func NewReader(data []byte) *Reader { return &Reader{buf: data} }

// NewStreamReader returns a Reader pulling from src.
func NewStreamReader(src io.Reader) *Reader {
	return &Reader{src: src, buf: make([]byte, 0, 64<<10)}
}

// Remaining returns how many bytes of a slice Reader are left.
func (r *Reader) Remaining() int { return len(r.buf) - r.pos }

// Offset returns how many bytes have been consumed.
func (r *Reader) Offset() int64 { return r.total + int64(r.pos) }

// Sum returns Redis's CRC64 of everything consumed so far.
func (r *Reader) Sum() uint64 {
	r.crc = UpdateCRC64(r.crc, r.buf[r.summed:r.pos])
	r.summed = r.pos
	return r.crc
}

var errShort = corrupt("unexpected end of data")

// fill makes n bytes available at pos.
func (r *Reader) fill(n int) error {
	if len(r.buf)-r.pos >= n {
		return nil
	}
	if r.src == nil {
		return errShort
	}
	if r.srcErr != nil {
		return r.shortErr()
	}
	// Drop consumed bytes (summing them first).
	r.Sum()
	r.total += int64(r.pos)
	r.buf = r.buf[:copy(r.buf, r.buf[r.pos:])]
	r.pos, r.summed = 0, 0
	for len(r.buf) < n {
		if cap(r.buf)-len(r.buf) < 4096 {
			// Grow gradually: a corrupt length cannot allocate more than
			// the data that actually arrives.
			nb := make([]byte, len(r.buf), max(2*cap(r.buf), len(r.buf)+64<<10))
			copy(nb, r.buf)
			r.buf = nb
		}
		k, err := r.src.Read(r.buf[len(r.buf):cap(r.buf)])
		r.buf = r.buf[:len(r.buf)+k]
		if err != nil {
			if len(r.buf) >= n {
				r.srcErr = err
				return nil
			}
			r.srcErr = err
			return r.shortErr()
		}
	}
	return nil
}

func (r *Reader) shortErr() error {
	if r.srcErr != nil && !errors.Is(r.srcErr, io.EOF) {
		return r.srcErr
	}
	return errShort
}

// ReadByte reads one byte.
func (r *Reader) ReadByte() (byte, error) {
	if err := r.fill(1); err != nil {
		return 0, err
	}
	b := r.buf[r.pos]
	r.pos++
	return b, nil
}

// readView returns the next n bytes, valid until the next read of a
// streaming Reader.
func (r *Reader) readView(n int) ([]byte, error) {
	if n < 0 {
		return nil, errShort
	}
	if err := r.fill(n); err != nil {
		return nil, err
	}
	p := r.buf[r.pos : r.pos+n : r.pos+n]
	r.pos += n
	return p, nil
}

// ReadRaw reads n bytes (see the type's note on aliasing).
func (r *Reader) ReadRaw(n int) ([]byte, error) {
	p, err := r.readView(n)
	if err != nil || r.src == nil {
		return p, err
	}
	return append([]byte(nil), p...), nil
}

// ReadLen reads an RDB length. When the length marker is an encoded
// string's, encoded is true and n is the encoding (INT8, INT16, INT32, LZF).
func (r *Reader) ReadLen() (n uint64, encoded bool, err error) {
	b, err := r.ReadByte()
	if err != nil {
		return 0, false, err
	}
	switch b >> 6 {
	case len6:
		return uint64(b & 0x3f), false, nil
	case len14:
		b2, err := r.ReadByte()
		if err != nil {
			return 0, false, err
		}
		return uint64(b&0x3f)<<8 | uint64(b2), false, nil
	case encVal:
		return uint64(b & 0x3f), true, nil
	}
	switch b {
	case len32:
		p, err := r.readView(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(p)), false, nil
	case len64:
		p, err := r.readView(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(p), false, nil
	}
	return 0, false, corrupt("unknown length encoding %d", b)
}

// ReadPlainLen reads a length that may not be a string encoding.
func (r *Reader) ReadPlainLen() (uint64, error) {
	n, enc, err := r.ReadLen()
	if err == nil && enc {
		err = corrupt("encoded length where a plain one was expected")
	}
	return n, err
}

// maxLZFRatio bounds how much LZF can expand data (a 3-byte back
// reference yields at most 264 bytes), so a forged original length is
// refused before allocating.
const maxLZFRatio = 90

// ReadString reads an RDB string (see the type's note on aliasing);
// integer encodings come back in decimal.
func (r *Reader) ReadString() ([]byte, error) {
	n, enc, err := r.ReadLen()
	if err != nil {
		return nil, err
	}
	if !enc {
		if n > math.MaxInt32*4 {
			return nil, corrupt("string length %d", n)
		}
		return r.ReadRaw(int(n))
	}
	switch n {
	case encInt8, encInt16, encInt32:
		v, err := r.readEncInt(int(n))
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, v, 10), nil
	case encLZF:
		clen, err := r.ReadPlainLen()
		if err != nil {
			return nil, err
		}
		ulen, err := r.ReadPlainLen()
		if err != nil {
			return nil, err
		}
		if ulen == 0 || clen == 0 || clen > math.MaxInt32 || ulen > clen*maxLZFRatio+64 {
			return nil, corrupt("lzf lengths %d/%d", clen, ulen)
		}
		c, err := r.readView(int(clen))
		if err != nil {
			return nil, err
		}
		return lzfDecompress(c, int(ulen))
	}
	return nil, corrupt("unknown string encoding %d", n)
}

func (r *Reader) readEncInt(enc int) (int64, error) {
	size := 1 << enc // 1, 2, 4
	p, err := r.readView(size)
	if err != nil {
		return 0, err
	}
	switch enc {
	case encInt8:
		return int64(int8(p[0])), nil
	case encInt16:
		return int64(int16(binary.LittleEndian.Uint16(p))), nil
	}
	return int64(int32(binary.LittleEndian.Uint32(p))), nil
}

// ReadBinaryDouble reads 8 little-endian IEEE bytes.
func (r *Reader) ReadBinaryDouble() (float64, error) {
	p, err := r.readView(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p)), nil
}

// ReadDouble reads the old string form of a double.
func (r *Reader) ReadDouble() (float64, error) {
	n, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	p, err := r.readView(int(n))
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(p), 64)
	if err != nil {
		var ne *strconv.NumError
		if !(errors.As(err, &ne) && ne.Err == strconv.ErrRange) {
			return 0, corrupt("bad double %q", p)
		}
	}
	return f, nil
}

// ReadMillis reads an 8-byte little-endian time in ms.
func (r *Reader) ReadMillis() (int64, error) {
	p, err := r.readView(8)
	if err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(p)), nil
}

// ReadSeconds reads a 4-byte little-endian time in seconds.
func (r *Reader) ReadSeconds() (int32, error) {
	p, err := r.readView(4)
	if err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(p)), nil
}
