package resp

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"testing"
)

// stressReader returns its data in random-sized pieces, as a socket does.
type stressReader struct {
	data []byte
	rng  *rand.Rand
	max  int
}

func (r *stressReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1 + r.rng.Intn(r.max)
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// TestParserStressChunks feeds a long pipeline of mixed commands (many
// arguments, empty, small and big bulks, inline lines) in random chunks,
// with the server's buffer housekeeping (Cron with and without idle,
// Shrink, Release) between reads, and checks every command comes out
// exactly once, in order, and that nothing is left unparsed at the end:
// a stall here is a connection that waits forever with a whole command
// in its buffer.
func TestParserStressChunks(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewSource(seed))
		var stream []byte
		var want [][]string
		for i := 0; i < 250; i++ {
			if rng.Intn(10) == 0 {
				cmd := []string{"set", fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", rng.Intn(1000))}
				stream = append(stream, fmt.Sprintf("%s %s %s\r\n", cmd[0], cmd[1], cmd[2])...)
				want = append(want, cmd)
				continue
			}
			argc := 1 + rng.Intn(30)
			cmd := make([]string, argc)
			stream = append(stream, fmt.Sprintf("*%d\r\n", argc)...)
			for j := range cmd {
				n := rng.Intn(20)
				switch rng.Intn(200) {
				case 0:
					n = 0
				case 1, 2, 3, 4, 5, 6, 7, 8, 9, 10:
					n = 30000 + rng.Intn(70000)
				case 11:
					n = 1<<20 + rng.Intn(1000)
				}
				b := make([]byte, n)
				rng.Read(b)
				cmd[j] = string(b)
				stream = append(stream, fmt.Sprintf("$%d\r\n", n)...)
				stream = append(stream, b...)
				stream = append(stream, "\r\n"...)
			}
			want = append(want, cmd)
		}
		var p Parser
		r := &stressReader{data: stream, rng: rng, max: 1 + rng.Intn(70000)}
		got := 0
		tick := uint64(0)
		for {
			switch rng.Intn(8) {
			case 0:
				tick++
				p.Cron(tick, rng.Intn(2) == 0)
			case 1:
				p.Shrink()
			case 2:
				p.Release()
			}
			_, err := p.Fill(r)
			for {
				args, perr := p.Next()
				if perr != nil {
					t.Fatalf("seed %d: protocol error %v after %d commands", seed, perr, got)
				}
				if args == nil {
					break
				}
				w := want[got]
				if len(args) != len(w) {
					t.Fatalf("seed %d: command %d has %d args, want %d", seed, got, len(args), len(w))
				}
				for k := range args {
					if !bytes.Equal(args[k], []byte(w[k])) {
						t.Fatalf("seed %d: command %d arg %d differs", seed, got, k)
					}
				}
				got++
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("seed %d: Fill: %v", seed, err)
			}
		}
		if got != len(want) {
			t.Fatalf("seed %d: parsed %d of %d commands; %d bytes left unparsed", seed, got, len(want), p.Buffered())
		}
	}
}
