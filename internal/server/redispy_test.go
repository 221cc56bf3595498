package server_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/corvid-db/corvid/internal/testutil"
)

// TestRedisPyClient runs a real redis-py client against the server. .ci/run
// installs Debian's python3-redis; without it the test skips.
func TestRedisPyClient(t *testing.T) {
	py := ""
	for _, cand := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(cand, "-c", "import redis").Run() == nil {
			py = cand
			break
		}
	}
	if py == "" {
		t.Skip("no python3 with the redis module (Debian's python3-redis)")
	}
	srv := testutil.Start(t)
	port := srv.Addr[strings.LastIndexByte(srv.Addr, ':')+1:]
	out, err := exec.Command(py, "testdata/redis_py_smoke.py", port).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("redis-py smoke test failed: %v\n%s", err, out)
	}
}
