package server_test

import (
	"os"
	"testing"

	"github.com/corvid-db/corvid/internal/savechild"
	"github.com/corvid-db/corvid/internal/testutil"
)

// TestMain runs this package's servers as cmd/corvid runs one: their
// background saves are written by save children, which are this test
// binary started again.
func TestMain(m *testing.M) {
	if savechild.IsChild() {
		os.Exit(savechild.Main())
	}
	testutil.SaveChildren = true
	os.Exit(m.Run())
}
