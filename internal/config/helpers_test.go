package config

import (
	"os"
	"path/filepath"
	"testing"
)

// tempDir returns a fresh directory, symlinks resolved (dir is reported
// that way, like getcwd does).
func tempDir(t *testing.T) string {
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mkdir(p string) error              { return os.Mkdir(p, 0o755) }
func writeFile(p, content string) error { return os.WriteFile(p, []byte(content), 0o644) }
func readFile(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(b)
}
