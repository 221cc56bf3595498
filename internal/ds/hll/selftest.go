package hll

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
)

// SelfTest is PFSELFTEST: it checks that every packed dense register keeps
// its value without disturbing its neighbours, then adds 10,000,000
// distinct elements to a dense and a sparse sketch side by side, checking
// at each power of ten that the sparse one is still sparse while small,
// that both estimate the same, and that the error stays within six
// standard errors. It returns nil or the "TESTFAILED …" error text.
func SelfTest(sparseMax int, rnd *rand.Rand) error {
	dense := make([]byte, DenseSize)
	copy(dense, "HYLL")
	regs := dense[HeaderSize:]
	var want [Registers]uint8
	for cycle := 0; cycle < 1000; cycle++ {
		for i := range want {
			want[i] = uint8(rnd.Uint32() & RegMax)
			DenseSet(regs, i, want[i])
		}
		for i := range want {
			if v := DenseGet(regs, i); v != want[i] {
				return fmt.Errorf("TESTFAILED Register %d should be %d but is %d", i, want[i], v)
			}
		}
	}

	clear(regs)
	sparse := New()
	relerr := 1.04 / math.Sqrt(Registers)
	checkpoint := int64(1)
	seed := rnd.Uint64()
	var ele [8]byte
	for j := int64(1); j <= 10000000; j++ {
		binary.LittleEndian.PutUint64(ele[:], uint64(j)^seed)
		idx, cnt := PatLen(ele[:])
		denseSetMax(regs, idx, cnt)
		sparse, _ = Set(sparse, idx, cnt, sparseMax)
		if j != checkpoint {
			continue
		}
		if j < int64(sparseMax/2) && !IsSparse(sparse) {
			return fmt.Errorf("TESTFAILED sparse encoding not used")
		}
		dc, _ := Count(dense)
		if sc, _ := Count(sparse); dc != sc {
			return fmt.Errorf("TESTFAILED dense/sparse disagree")
		}
		abserr := checkpoint - int64(dc)
		maxerr := int64(math.Ceil(relerr * 6 * float64(checkpoint)))
		if j == 10 {
			maxerr = 1 // collisions make larger errors at 10 likely enough
		}
		if abserr < 0 {
			abserr = -abserr
		}
		if abserr > maxerr {
			return fmt.Errorf("TESTFAILED Too big error. card:%d abserr:%d", checkpoint, abserr)
		}
		checkpoint *= 10
	}
	return nil
}
