package rdb

import "hash/crc64"

// crcTable is the Jones polynomial (Redis's crc64.c), reflected as Go's
// crc64 package wants it.
var crcTable = crc64.MakeTable(0x95ac9329ac4bc9b5)

// CRC64 is Redis's crc64(0, p).
func CRC64(p []byte) uint64 { return UpdateCRC64(0, p) }

// UpdateCRC64 continues a Redis CRC64 over p: UpdateCRC64(CRC64(a), b)
// equals CRC64(a+b). Redis starts from 0 with no final inversion, where
// Go's Update inverts on the way in and out, hence the complements.
func UpdateCRC64(crc uint64, p []byte) uint64 {
	return ^crc64.Update(^crc, crcTable, p)
}
