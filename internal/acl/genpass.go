package acl

import (
	"crypto/rand"
	"encoding/hex"
)

// GenPassDefaultBits is the size of an ACL GENPASS password when no size
// is given.
const GenPassDefaultBits = 256

// genPassMaxBits is the largest size ACL GENPASS accepts.
const genPassMaxBits = 4096

// GenPass returns a random password of bits bits as hex characters (ACL
// GENPASS [bits]): bits is rounded up to a multiple of 4, one hex digit
// each. bits must be in 1..4096 (ErrGenPassBits otherwise). The randomness
// is crypto/rand's.
func GenPass(bits int64) (string, error) {
	if bits <= 0 || bits > genPassMaxBits {
		return "", ErrGenPassBits
	}
	chars := (bits + 3) / 4
	var buf [genPassMaxBits / 8]byte
	raw := buf[:(chars+1)/2]
	_, _ = rand.Read(raw) // never fails: crypto/rand aborts the program instead
	return hex.EncodeToString(raw)[:chars], nil
}
