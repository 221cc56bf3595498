// Package rdb is Redis's RDB serialisation format: the value encodings
// DUMP and RESTORE exchange, and the file format SAVE, replication and the
// AOF preamble use. It is pure: it turns bytes into plain Go values and
// back, and knows nothing of the keyspace, so the same code serves every
// producer and consumer of RDB data.
//
// Reading accepts every version up to 12 (Redis 7.4's, for hashes with
// field expiries), legacy encodings included, and refuses a newer one with
// Redis's "Can't handle RDB format version" before reading anything else.
// Every compact blob (listpack, ziplist, intset, zipmap, stream node) is
// fully validated before use, as Redis's deep sanitisation does: a corrupt
// payload gives an error, never a panic.
//
// # Which version a file or payload says
//
// Writing follows Redis 7.2's layouts, but the version label is not fixed
// at 7.2's 11: every file and DUMP payload says the oldest version that
// defines every object type in it (TypeVersion), and never less than 10,
// Redis 7.0's. The label is what an older server checks first: a file
// labelled beyond what it knows is refused whole with a clear message,
// while a file that claims a version whose types it then exceeds makes
// the server stop halfway ("Invalid object type"), which is what Redis 7.2
// did with Corvid's version-11 files holding Redis 7.4's hash types.
// Nothing older than 10 is written because Redis 6 and older would need
// the ziplist layouts for small lists, hashes and sorted sets, which
// Corvid does not produce.
//
// Among layouts that reload identically, the encoders' callers pick the
// one the oldest version defines, and never trade content or encoding for
// compatibility:
//
//   - a hash with no field TTL left is a plain hash (16 or 4), whatever
//     its history; one with a live field TTL needs 25 or 24, hence 12;
//   - a stream is type 19 (Redis 7.0's) when no consumer's active time
//     differs from its seen time, since 19 differs from 21 only by that
//     field and a 7.x loader sets the one to the other; otherwise 21 (11);
//   - a listpack set is written as a plain set (type 2) when Redis's
//     loader (and Corvid's, which follows it) rebuilds a listpack from it
//     under the current limits: at least one member that is not an
//     integer, no more members than set-max-listpack-entries and
//     set-max-intset-entries, none longer than set-max-listpack-value.
//     The loader starts from an intset, so integer members met before the
//     first other one come back sorted: the members survive, their order
//     in SMEMBERS (which Redis leaves unspecified) may not. Any other
//     listpack set (all integers, or beyond the limits after a CONFIG SET)
//     would come back as an intset or a hashtable, so it stays type 20
//     and the file says 11.
//
// Redis 7.0 therefore loads every Corvid file whose contents it can
// represent (field TTLs being the exception), and Redis 7.2 every file
// but those with live field TTLs.
//
// # How the header learns the version
//
// The header comes first but the types are known only once every key has
// been written. Three ways were weighed:
//
//   - A pre-pass over the keyspace deciding every value's type before
//     writing: exact, and works on any output, but it walks every key
//     twice while the snapshot holds every shard (seconds more for a
//     10 GB dataset of small keys, on top of the write).
//   - Counters kept by the keyspace (sets in listpack form, hashes with
//     field TTLs, consumers whose active time differs): cheap to read, but
//     every write path of three types would have to maintain them, and a
//     field TTL that passes changes the answer with no write at all.
//   - Patching: write a provisional label, keep the highest TypeVersion
//     of the keys written (one comparison per key), and at the end
//     rewrite the four digits and correct the CRC64. Redis's CRC64 (Jones,
//     reflected, initial value 0, no final xor) is linear, so the CRC of
//     the relabelled file is the old CRC xor the CRC of the difference,
//     which is the 4-byte digit delta followed by N zero bytes: the CRC of
//     the delta multiplied by x^(8N) modulo the polynomial, computed by
//     squaring in O(log N) 64-bit carry-less products (the technique of
//     zlib's crc32_combine). For a 10 GB file that is about 35 squarings
//     and one 4-byte write.
//
// FileWriter patches: it is exact, costs nothing per key beyond a
// comparison, and needs no cooperation from the keyspace. It needs an
// output whose beginning can be rewritten, which a memory buffer (where
// Corvid builds every snapshot today) and a file are. For an output that
// cannot be (a replica fed while the file is produced), the header is
// still in the writer's buffer for the first 64 KiB and is corrected
// there; past that the caller must give an upper bound up front (the
// server's snapshot code then does the pre-pass, the best information
// available), and a key whose type the label does not define fails the
// writer rather than send a file an older server would die in.
package rdb

import (
	"errors"
	"fmt"
)

// RDB versions of the Redis releases that matter here.
const (
	// Version70 is Redis 7.0's: types up to 19 (listpacks for hashes and
	// sorted sets, quicklist 2, stream listpacks 2) and FUNCTION2.
	Version70 = 10
	// Version72 is Redis 7.2's: adds set listpacks (20) and stream
	// listpacks 3 (21, consumers' active time).
	Version72 = 11
	// VersionHashTTL is Redis 7.4's: adds the hash types with field
	// expiries (22 to 25).
	VersionHashTTL = 12
)

// Version is Redis 7.2's version, the one whose layouts Corvid follows
// (and that FUNCTION DUMP payloads carry).
const Version = Version72

// MinVersion is the oldest version a file or payload is labelled with.
const MinVersion = Version70

// MaxVersion is the newest version read.
const MaxVersion = VersionHashTTL

// TypeVersion returns the version a file holding object type t must say:
// the oldest that defines t, but not older than MinVersion.
func TypeVersion(t byte) int {
	switch {
	case t >= TypeHashMetadataPreGA:
		return VersionHashTTL
	case t >= TypeSetListpack:
		return Version72
	}
	return MinVersion
}

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

// ErrVersion is matched (errors.Is) by the error of a file or payload
// newer than MaxVersion.
var ErrVersion = errors.New("rdb: unsupported version")

// VersionError reports a file of a version this package cannot read; its
// text is Redis's.
type VersionError struct{ Version int }

func (e *VersionError) Error() string {
	return fmt.Sprintf("Can't handle RDB format version %d", e.Version)
}

// Is makes errors.Is(err, ErrVersion) hold.
func (e *VersionError) Is(target error) bool { return target == ErrVersion }

// ErrCorrupt is wrapped by every error a malformed payload causes, so
// callers tell bad data from I/O failures with errors.Is.
var ErrCorrupt = errors.New("rdb: corrupt data")

// ChecksumError is a file whose trailing CRC64 is not its contents'.
type ChecksumError struct{ Want, Got uint64 }

func (e *ChecksumError) Error() string { return "rdb: corrupt data: wrong RDB checksum" }

// Unwrap makes a ChecksumError an ErrCorrupt.
func (e *ChecksumError) Unwrap() error { return ErrCorrupt }

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}
