package rdb

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
)

// The file format: "REDIS" and a 4-digit version, then opcodes (AUX
// fields, FUNCTION2 libraries, SELECTDB/RESIZEDB per database, and per
// key its optional EXPIRETIME_MS, IDLE and FREQ, its type byte, name and
// value), then EOF and the CRC64 of everything before it (0 when
// rdbchecksum is off).

// FileWriter writes an RDB file.
type FileWriter struct {
	*Writer
	checksum bool
}

// NewFileWriter starts an RDB file of the given version on out; checksum
// selects whether the trailing CRC64 is computed (rdbchecksum).
func NewFileWriter(out io.Writer, version int, checksum bool) *FileWriter {
	fw := &FileWriter{Writer: NewWriter(out), checksum: checksum}
	fw.WriteRaw(fmt.Appendf(nil, "REDIS%04d", version))
	return fw
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
	fw.WriteByte(OpSelectDB)
	fw.WriteLen(uint64(db))
	fw.WriteByte(OpResizeDB)
	fw.WriteLen(size)
	fw.WriteLen(expires)
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
func (fw *FileWriter) Key(key []byte, meta KeyMeta, typ byte) {
	if meta.ExpireAt != 0 {
		fw.WriteByte(OpExpireTimeMs)
		fw.WriteMillis(meta.ExpireAt)
	}
	if meta.Idle >= 0 {
		fw.WriteByte(OpIdle)
		fw.WriteLen(uint64(meta.Idle))
	}
	if meta.Freq >= 0 {
		fw.WriteByte(OpFreq)
		fw.WriteByte(byte(meta.Freq))
	}
	fw.WriteByte(typ)
	fw.WriteString(key)
}

// Finish writes EOF and the checksum and flushes.
func (fw *FileWriter) Finish() error {
	fw.WriteByte(OpEOF)
	var sum uint64
	if fw.checksum {
		sum = fw.Sum()
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], sum)
	fw.WriteRaw(b[:])
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
	// ReadObject(r, k.Type) before returning nil.
	Key func(k KeyInfo, r *Reader) error
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
	ver, err := strconv.Atoi(string(hdr[5:9]))
	if err != nil || ver < 1 || ver > MaxVersion {
		return 0, corrupt("can't handle RDB format version %q", hdr[5:9])
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
					return ver, corrupt("wrong RDB checksum")
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
			if err != nil {
				return ver, err
			}
			meta = KeyInfo{Idle: -1, Freq: -1}
		}
	}
}
