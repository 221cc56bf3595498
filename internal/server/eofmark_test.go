package server

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// TestEOFMarkReader: the payload between EOF marks comes out whole, in
// reads of any size, however the bytes arrive, and what follows the mark
// (the replication stream) is left unread.
func TestEOFMarkReader(t *testing.T) {
	mark := []byte("0123456789abcdef0123456789abcdef01234567")
	rng := rand.New(rand.NewPCG(7, 8))
	for _, size := range []int{0, 1, 39, 40, 41, 4095, 4096, 100000} {
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = byte(rng.Uint32())
		}
		wire := append(append(append([]byte(nil), payload...), mark...), "*1\r\n$4\r\nPING\r\n"...)
		br := bufio.NewReaderSize(iotestHalf{bytes.NewReader(wire)}, 64)
		r := &eofMarkReader{br: br, mark: mark}
		var got []byte
		buf := make([]byte, 1+rng.IntN(100))
		for {
			n, err := r.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, payload) {
			t.Fatalf("size %d: got %d bytes, not the payload", size, len(got))
		}
		rest, _ := io.ReadAll(br)
		if string(rest) != "*1\r\n$4\r\nPING\r\n" {
			t.Fatalf("size %d: left %q after the mark", size, rest)
		}
	}
	// A connection that ends before the mark is an error, not a payload.
	br := bufio.NewReader(bytes.NewReader([]byte("partial payload")))
	if _, err := io.ReadAll(&eofMarkReader{br: br, mark: mark}); err == nil {
		t.Fatal("a payload cut short read as complete")
	}
}

// iotestHalf returns at most half of what is asked, at least one byte.
type iotestHalf struct{ r io.Reader }

func (h iotestHalf) Read(p []byte) (int, error) { return h.r.Read(p[:max(1, (len(p)+1)/2)]) }
