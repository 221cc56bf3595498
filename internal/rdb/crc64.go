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

// crcPoly is the Jones polynomial in the reflected bit order Redis's
// CRC64 uses: bit 63 is the coefficient of x^0, bit 0 that of x^63.
const crcPoly = 0x95ac9329ac4bc9b5

// crcMulMod returns a*b modulo the CRC polynomial, both operands and the
// result in the reflected order.
func crcMulMod(a, b uint64) uint64 {
	var p uint64
	for m := uint64(1) << 63; m != 0 && a != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
			a &^= m
		}
		// b *= x: one step towards x^63, folding x^64 back in.
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
	return p
}

// crcXPow8n returns x^(8n) modulo the polynomial (reflected), by
// square-and-multiply: O(log n) products.
func crcXPow8n(n int64) uint64 {
	result := uint64(1) << 63 // x^0
	base := uint64(1) << (63 - 8)
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			result = crcMulMod(result, base)
		}
		base = crcMulMod(base, base)
	}
	return result
}

// ShiftCRC64 returns the CRC of a message whose CRC is crc followed by n
// zero bytes. With an initial value of 0 and no final xor the CRC is
// M(x)*x^64 mod P, so appending zeros multiplies it by x^(8n).
func ShiftCRC64(crc uint64, n int64) uint64 {
	if crc == 0 || n <= 0 {
		return crc
	}
	return crcMulMod(crcXPow8n(n), crc)
}

// CombineCRC64 returns CRC64(a+b) from CRC64(a), CRC64(b) and len(b),
// without reading either.
func CombineCRC64(crcA, crcB uint64, lenB int64) uint64 {
	return ShiftCRC64(crcA, lenB) ^ crcB
}
