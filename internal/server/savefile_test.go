package server

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/corvid-db/corvid/internal/config"
)

// A background save stopped (FLUSHALL, SHUTDOWN) after its file was
// complete must not put that file in place: the save that follows (the
// empty dataset, the final one) would be replaced by an older one.
func TestCancelledSaveIsNotInstalled(t *testing.T) {
	dir := t.TempDir()
	cfg := config.New()
	if err := cfg.LoadString("dir " + dir + "\n"); err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "dump.rdb")
	if err := os.WriteFile(newer, []byte("newer"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cancel := range []bool{true, false} {
		f, err := s.createBgRDBFile()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.w.Write([]byte("older")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.commit(); err != nil {
			t.Fatal(err)
		}
		if cancel {
			s.cancelSaves(titleRDB)
		}
		err = f.install(newer)
		got, _ := os.ReadFile(newer)
		switch {
		case cancel && (!errors.Is(err, errSnapshotAborted) || string(got) != "newer"):
			t.Fatalf("cancelled: install %v, dump.rdb %q", err, got)
		case !cancel && (err != nil || string(got) != "older"):
			t.Fatalf("install %v, dump.rdb %q", err, got)
		}
		if _, err := os.Stat(f.path); !os.IsNotExist(err) {
			t.Fatalf("temporary file %s left: %v", f.path, err)
		}
	}
	if len(s.saveFiles.set) != 0 {
		t.Fatalf("%d saves still listed", len(s.saveFiles.set))
	}
}
