package scripting

import (
	"github.com/corvid-db/corvid/internal/rdb"
)

// FUNCTION DUMP's payload is Redis's: for each library the RDB opcode
// FUNCTION2 (245) and the library's code as an RDB string, then the RDB
// version (11 for Redis 7.2) in two little-endian bytes and the CRC64
// (Jones polynomial, as Redis's crc64.c) of everything before it, in
// eight little-endian bytes. Payloads from redis-server restore here and
// the other way round; strings Redis compressed with LZF are read too.
// The encoding itself is internal/rdb's.

// ErrPayload is FUNCTION RESTORE's reply to a payload whose version or
// checksum is wrong.
const ErrPayload = "ERR DUMP payload version or checksum are wrong"

// DumpPayload serialises library codes as FUNCTION DUMP does.
func DumpPayload(codes []string) []byte {
	var b []byte
	for _, c := range codes {
		b = append(b, rdb.OpFunction2)
		b = rdb.AppendLen(b, uint64(len(c)))
		b = append(b, c...)
	}
	// Functions exist since RDB 10 (Redis 7.0), so the payload says 10, as
	// every Corvid payload says the oldest version its contents need.
	return rdb.AppendFooter(b, rdb.MinVersion)
}

// VerifyPayload checks a payload's footer as Redis 7.2's verifyDumpPayload
// does: an RDB version not newer than its own (11) and a matching CRC64.
func VerifyPayload(p []byte) bool {
	_, ver, ok := rdb.VerifyFooter(p)
	return ok && ver <= rdb.Version
}

// ParsePayload decodes a verified payload into library codes; the error
// is Redis's message, without "ERR ".
func ParsePayload(p []byte) ([]string, string) {
	r := rdb.NewReader(p[:len(p)-10])
	var codes []string
	for r.Remaining() > 0 {
		t, err := r.ReadByte()
		if err != nil {
			return nil, "can not read data type"
		}
		if t == rdb.OpFunctionPreGA {
			return nil, "Pre-GA function format not supported"
		}
		if t != rdb.OpFunction2 {
			return nil, "given type is not a function"
		}
		s, err := r.ReadString()
		if err != nil {
			return nil, "Failed loading library payload"
		}
		codes = append(codes, string(s))
	}
	return codes, ""
}
