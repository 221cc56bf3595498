// Package rdb is Redis's RDB serialisation format: the value encodings
// DUMP and RESTORE exchange, and the file format SAVE, replication and the
// AOF preamble use. It is pure: it turns bytes into plain Go values and
// back, and knows nothing of the keyspace, so the same code serves every
// producer and consumer of RDB data.
//
// Writing follows what Redis 7.2 writes (RDB version 11; version 12 only
// for hashes with field expiries, whose types come from Redis 7.4).
// Reading accepts everything Redis 7.2 can load, legacy encodings
// included. Every compact blob (listpack, ziplist, intset, zipmap, stream
// node) is fully validated before use, as Redis's deep sanitisation does:
// a corrupt payload gives an error, never a panic.
package rdb

import (
	"errors"
	"fmt"
)

// Version is the RDB version written (Redis 7.2's).
const Version = 11

// VersionHashTTL is the version of payloads holding hashes with field
// expiries, whose object types only Redis 7.4 and later understand.
const VersionHashTTL = 12

// MaxVersion is the newest version read.
const MaxVersion = VersionHashTTL

// Object types, as rdb.h numbers them.
const (
	TypeString              = 0
	TypeList                = 1
	TypeSet                 = 2
	TypeZSet                = 3
	TypeHash                = 4
	TypeZSet2               = 5
	TypeModulePreGA         = 6
	TypeModule2             = 7
	TypeHashZipmap          = 9
	TypeListZiplist         = 10
	TypeSetIntset           = 11
	TypeZSetZiplist         = 12
	TypeHashZiplist         = 13
	TypeListQuicklist       = 14
	TypeStreamListpacks     = 15
	TypeHashListpack        = 16
	TypeZSetListpack        = 17
	TypeListQuicklist2      = 18
	TypeStreamListpacks2    = 19
	TypeSetListpack         = 20
	TypeStreamListpacks3    = 21
	TypeHashMetadataPreGA   = 22
	TypeHashListpackExPreGA = 23
	TypeHashMetadata        = 24
	TypeHashListpackEx      = 25
)

// Opcodes of the file format.
const (
	OpSlotInfo      = 244
	OpFunction2     = 245
	OpFunctionPreGA = 246
	OpModuleAux     = 247
	OpIdle          = 248
	OpFreq          = 249
	OpAux           = 250
	OpResizeDB      = 251
	OpExpireTimeMs  = 252
	OpExpireTime    = 253
	OpSelectDB      = 254
	OpEOF           = 255
)

// IsObjectType reports whether t is a value type byte (as rdbIsObjectType).
func IsObjectType(t byte) bool { return t <= 7 || (t >= 9 && t <= 25) }

// Length and string encoding markers.
const (
	len6     = 0
	len14    = 1
	len32    = 0x80
	len64    = 0x81
	encVal   = 3
	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2).
const (
	containerPlain  = 1
	containerPacked = 2
)

// ErrCorrupt is wrapped by every error a malformed payload causes, so
// callers tell bad data from I/O failures with errors.Is.
var ErrCorrupt = errors.New("rdb: corrupt data")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}
