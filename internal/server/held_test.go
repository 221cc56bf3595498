package server

import (
	"bytes"
	"testing"
)

// TestAppendChunked: the stream held for a replica during its RDB
// transfer is kept in fixed chunks, filled in order, whatever the sizes
// of the pieces appended, and reads back as it was appended.
func TestAppendChunked(t *testing.T) {
	var chunks [][]byte
	var want []byte
	sizes := []int{0, 1, 100, heldChunkSize - 101, 1, heldChunkSize + 7, 3 * heldChunkSize, 5}
	for i, n := range sizes {
		piece := bytes.Repeat([]byte{byte('a' + i)}, n)
		chunks = appendChunked(chunks, piece)
		want = append(want, piece...)
	}
	for i, c := range chunks {
		if cap(c) != heldChunkSize {
			t.Fatalf("chunk %d has capacity %d, want %d", i, cap(c), heldChunkSize)
		}
		if i < len(chunks)-1 && len(c) != heldChunkSize {
			t.Fatalf("chunk %d holds %d bytes before the last chunk, want it full", i, len(c))
		}
	}
	if got := bytes.Join(chunks, nil); !bytes.Equal(got, want) {
		t.Fatalf("chunks hold %d bytes, not what was appended (%d bytes)", len(got), len(want))
	}
}
