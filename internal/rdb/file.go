package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The file format: "REDIS" and a 4-digit version, then opcodes (AUX
// fields, FUNCTION2 libraries, SELECTDB/RESIZEDB per database, and per
// key its optional EXPIRETIME_MS, IDLE and FREQ, its type byte, name and
// value), then EOF and the CRC64 of everything before it (0 when
// rdbchecksum is off).

// FileWriter writes an RDB file, labelling it with the version its
// contents need (see the package doc): the highest TypeVersion of the
// keys written, at least MinVersion.
type FileWriter struct {
	*Writer
	checksum bool
	// label is the version the header says now; need is the version the
	// keys written so far require.
	label, need int
	// patch rewrites bytes of the output already flushed, at an offset
	// from the start of the file; nil when the output cannot be rewritten.
	patch func(off int64, p []byte) error
}

// headerLen is the length of "REDIS" and the four version digits.
const headerLen = 9

// NewFileWriter starts an RDB file on out; checksum selects whether the
// trailing CRC64 is computed (rdbchecksum). version is the label the
// header gets now (0 for MinVersion). When out can be rewritten
// (CanRelabel), Finish corrects the label to what the file turned out to
// need; otherwise it must be an upper bound of that, and a key of a type
// it does not define fails the writer.
func NewFileWriter(out io.Writer, version int, checksum bool) *FileWriter {
	version = max(version, MinVersion)
	fw := &FileWriter{Writer: NewWriter(out), checksum: checksum, label: version, need: MinVersion,
		patch: patcherOf(out)}
	fw.WriteRaw(fmt.Appendf(nil, "REDIS%04d", version))
	return fw
}

// CanRelabel reports whether a file written to out can have its version
// label corrected at the end whatever its size: a *bytes.Buffer not read
// from while the file is written, or a file (io.WriterAt and io.Seeker)
// not opened for appending.
func CanRelabel(out io.Writer) bool { return patcherOf(out) != nil }

func patcherOf(out io.Writer) func(off int64, p []byte) error {
	switch o := out.(type) {
	case *bytes.Buffer:
		base := int64(o.Len())
		return func(off int64, p []byte) error {
			b := o.Bytes()
			if base+off+int64(len(p)) > int64(len(b)) {
				return errors.New("rdb: buffer was read while the file was written")
			}
			copy(b[base+off:], p)
			return nil
		}
	case interface {
		io.WriterAt
		io.Seeker
	}:
		base, err := o.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil
		}
		return func(off int64, p []byte) error {
			_, err := o.WriteAt(p, base+off)
			return err
		}
	}
	return nil
}

// relabel makes the header say version v, wherever the header is now,
// and corrects the running CRC64 for the bytes it already covers. It
// reports false, changing nothing, when the header is out of reach or
// cannot be rewritten.
func (fw *FileWriter) relabel(v int) bool {
	if v == fw.label {
		return true
	}
	var digits, old [4]byte
	copy(digits[:], fmt.Sprintf("%04d", v))
	copy(old[:], fmt.Sprintf("%04d", fw.label))
	w := fw.Writer
	flushed := w.total - int64(len(w.buf))
	switch {
	case flushed == 0 && len(w.buf) >= headerLen:
		copy(w.buf[5:headerLen], digits[:])
	case fw.patch != nil && w.err == nil:
		if err := fw.patch(5, digits[:]); err != nil {
			return false
		}
	default:
		return false
	}
	// The CRC covers flushed plus summed bytes; if it covers the header,
	// xor in the CRC of the change extended by the bytes after it.
	if covered := flushed + int64(w.summed); covered >= headerLen {
		var delta [4]byte
		for i := range delta {
			delta[i] = old[i] ^ digits[i]
		}
		w.crc ^= ShiftCRC64(CRC64(delta[:]), covered-headerLen)
	}
	fw.label = v
	return true
}

// Aux writes an AUX field.
func (fw *FileWriter) Aux(key, val string) {
	fw.WriteByte(OpAux)
	fw.WriteString([]byte(key))
	fw.WriteString([]byte(val))
}

// AuxInt writes an AUX field with an integer value.
func (fw *FileWriter) AuxInt(key string, v int64) { fw.Aux(key, strconv.FormatInt(v, 10)) }

// Function writes a function library (its code) as FUNCTION2.
func (fw *FileWriter) Function(code []byte) {
	fw.WriteByte(OpFunction2)
	fw.WriteString(code)
}

// SelectDB starts the keys of database db, with RESIZEDB's size hints.
func (fw *FileWriter) SelectDB(db int, size, expires uint64) {
	fw.SelectDBOnly(db)
	fw.WriteByte(OpResizeDB)
	fw.WriteLen(size)
	fw.WriteLen(expires)
}

// SelectDBOnly switches to database db without size hints: a snapshot
// written while the server runs interleaves databases, and gives the
// hints only the first time it meets each.
func (fw *FileWriter) SelectDBOnly(db int) {
	fw.WriteByte(OpSelectDB)
	fw.WriteLen(uint64(db))
}

// Records writes keys encoded elsewhere (KeyHeader and a value's
// encoders), which need RDB version need.
func (fw *FileWriter) Records(p []byte, need int) {
	fw.require(need, 0)
	fw.WriteRaw(p)
}

// require notes that the file needs version v for type typ.
func (fw *FileWriter) require(v int, typ byte) {
	if v > fw.need {
		fw.need = v
		if v > fw.label && fw.patch == nil && !fw.relabel(v) && fw.err == nil {
			fw.err = fmt.Errorf("rdb: object type %d needs RDB version %d, the file is labelled %d", typ, v, fw.label)
		}
	}
}

// KeyMeta is what precedes a key's value: expiry (Unix ms, 0 for none),
// idle seconds (IDLE, -1 for none) and LFU counter (FREQ, -1 for none).
type KeyMeta struct {
	ExpireAt int64
	Idle     int64
	Freq     int
}

// Key writes a key's metadata, type and name; the caller then writes the
// value with the Writer's encoders.
//
// A type newer than the label, on an output whose header can no longer be
// rewritten, fails the writer (Err) and writes nothing more: the file
// would otherwise stop an older server halfway.
func (fw *FileWriter) Key(key []byte, meta KeyMeta, typ byte) {
	fw.require(TypeVersion(typ), typ)
	fw.KeyHeader(key, meta, typ)
}

// KeyHeader writes a key's metadata, type and name, as FileWriter.Key
// does, to be followed by the value.
func (w *Writer) KeyHeader(key []byte, meta KeyMeta, typ byte) {
	if meta.ExpireAt != 0 {
		w.WriteByte(OpExpireTimeMs)
		w.WriteMillis(meta.ExpireAt)
	}
	if meta.Idle >= 0 {
		w.WriteByte(OpIdle)
		w.WriteLen(uint64(meta.Idle))
	}
	if meta.Freq >= 0 {
		w.WriteByte(OpFreq)
		w.WriteByte(byte(meta.Freq))
	}
	w.WriteByte(typ)
	w.WriteString(key)
}

// Finish writes EOF, corrects the version label to what the keys
// written need (when the output allows; a lower label that cannot be
// corrected stays, which only costs compatibility), writes the checksum
// and flushes.
func (fw *FileWriter) Finish() error {
	fw.WriteByte(OpEOF)
	if !fw.relabel(fw.need) && fw.need > fw.label && fw.err == nil {
		fw.err = fmt.Errorf("rdb: the file needs RDB version %d but is labelled %d", fw.need, fw.label)
	}
	var sum uint64
	if fw.checksum {
		sum = fw.Sum()
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], sum)
	fw.writeSmall(b[:])
	return fw.Flush()
}

// KeyInfo describes a key met while loading.
type KeyInfo struct {
	DB       int
	Key      []byte
	ExpireAt int64 // Unix ms, 0 for none
	Idle     int64 // seconds, -1 when the file has none
	Freq     int   // -1 when the file has none
	Type     byte
}

// Loader holds the callbacks Load calls; nil ones are skipped (a nil Key
// reads and discards values).
type Loader struct {
	// Aux is called per AUX field.
	Aux func(key, val []byte) error
	// Function is called per function library (its code).
	Function func(code []byte) error
	// SelectDB is called when the keys of another database start.
	SelectDB func(db int) error
	// ResizeDB gives the size hints of the current database.
	ResizeDB func(size, expires uint64) error
	// Key is called per key; it must read the value from r with
	// ReadObject(r, k.Type) before returning nil, and return ReadObject's
	// error unchanged (or wrapped) when that is ErrEmpty.
	Key func(k KeyInfo, r *Reader) error
	// EmptyKey is called instead for a key whose collection has no
	// elements (ErrEmpty), which Load then skips: bugs of older Redis
	// versions could leave such keys in a file (Redis issue 8453), and
	// Redis 7.2's loader skips them rather than refuse the whole file. A
	// nil EmptyKey skips them silently; returning an error stops the load
	// with it.
	EmptyKey func(k KeyInfo) error
}

// Load reads an RDB file from src, calling l's callbacks, and checks the
// trailing checksum. It returns the file's RDB version.
func Load(src io.Reader, l *Loader) (int, error) {
	r := NewStreamReader(src)
	hdr, err := r.readView(9)
	if err != nil {
		return 0, err
	}
	if string(hdr[:5]) != "REDIS" {
		return 0, corrupt("wrong signature")
	}
	ver := 0 // as atoi: the leading digits
	for _, c := range hdr[5:9] {
		if c < '0' || c > '9' {
			break
		}
		ver = ver*10 + int(c-'0')
	}
	if ver < 1 || ver > MaxVersion {
		return ver, &VersionError{ver}
	}
	db := 0
	meta := KeyInfo{Idle: -1, Freq: -1}
	for {
		op, err := r.ReadByte()
		if err != nil {
			return ver, err
		}
		switch op {
		case OpExpireTimeMs:
			if meta.ExpireAt, err = r.ReadMillis(); err != nil {
				return ver, err
			}
			continue
		case OpExpireTime:
			s, err := r.ReadSeconds()
			if err != nil {
				return ver, err
			}
			meta.ExpireAt = int64(s) * 1000
			continue
		case OpIdle:
			n, err := r.ReadPlainLen()
			if err != nil {
				return ver, err
			}
			meta.Idle = int64(n)
			continue
		case OpFreq:
			b, err := r.ReadByte()
			if err != nil {
				return ver, err
			}
			meta.Freq = int(b)
			continue
		case OpEOF:
			if ver >= 5 {
				want := r.Sum()
				p, err := r.readView(8)
				if err != nil {
					return ver, err
				}
				if got := binary.LittleEndian.Uint64(p); got != 0 && got != want {
					return ver, &ChecksumError{Want: want, Got: got}
				}
			}
			return ver, nil
		case OpSelectDB:
			n, err := r.ReadPlainLen()
			if err != nil {
				return ver, err
			}
			if n > 1<<20 {
				return ver, corrupt("database number %d", n)
			}
			db = int(n)
			if l.SelectDB != nil {
				if err := l.SelectDB(db); err != nil {
					return ver, err
				}
			}
		case OpResizeDB:
			size, err := r.ReadPlainLen()
			if err != nil {
				return ver, err
			}
			exp, err := r.ReadPlainLen()
			if err != nil {
				return ver, err
			}
			if l.ResizeDB != nil {
				if err := l.ResizeDB(size, exp); err != nil {
					return ver, err
				}
			}
		case OpSlotInfo:
			for range 3 {
				if _, err := r.ReadPlainLen(); err != nil {
					return ver, err
				}
			}
		case OpAux:
			k, err := r.ReadString()
			if err != nil {
				return ver, err
			}
			v, err := r.ReadString()
			if err != nil {
				return ver, err
			}
			if l.Aux != nil {
				if err := l.Aux(k, v); err != nil {
					return ver, err
				}
			}
		case OpFunction2:
			code, err := r.ReadString()
			if err != nil {
				return ver, err
			}
			if l.Function != nil {
				if err := l.Function(code); err != nil {
					return ver, err
				}
			}
		case OpFunctionPreGA:
			return ver, corrupt("pre-release function format not supported")
		case OpModuleAux:
			return ver, corrupt("module auxiliary data not supported")
		default:
			if !IsObjectType(op) {
				return ver, corrupt("unknown opcode %d", op)
			}
			key, err := r.ReadString()
			if err != nil {
				return ver, err
			}
			meta.DB, meta.Key, meta.Type = db, key, op
			if l.Key != nil {
				err = l.Key(meta, r)
			} else {
				_, err = ReadObject(r, op)
			}
			if errors.Is(err, ErrEmpty) {
				err = nil
				if l.EmptyKey != nil {
					err = l.EmptyKey(meta)
				}
			}
			if err != nil {
				return ver, err
			}
			meta = KeyInfo{Idle: -1, Freq: -1}
		}
	}
}
