package savechild

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if IsChild() {
		os.Exit(Main())
	}
	os.Exit(m.Run())
}

func TestChildWritesFileWithPatches(t *testing.T) {
	dir := t.TempDir()
	c, err := Start("test-child", dir, "temp-%d.rdb")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "temp-"+strconv.Itoa(c.Pid)+".rdb"); c.Path != want {
		t.Fatalf("Path %q, want %q", c.Path, want)
	}
	var want []byte
	for i := 0; i < 200; i++ {
		p := bytes.Repeat([]byte{byte('a' + i%26)}, 1000+i*97)
		want = append(want, p...)
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.WriteAt([]byte("0011"), 5); err != nil {
		t.Fatal(err)
	}
	copy(want[5:], "0011")
	if _, err := c.WriteAt([]byte("x"), int64(len(want))); err == nil {
		t.Fatal("a patch past the end was accepted")
	}
	if n, _ := c.Seek(0, 1); n != int64(len(want)) {
		t.Fatalf("Seek says %d bytes, sent %d", n, len(want))
	}
	if err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(c.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file has %d bytes, want %d (or different contents)", len(got), len(want))
	}
}

func TestKilledChildIsReported(t *testing.T) {
	dir := t.TempDir()
	c, err := Start("test-child", dir, "temp-%d.rdb")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("REDIS0011")); err != nil {
		t.Fatal(err)
	}
	waitFile(t, c.Path)
	_ = syscall.Kill(c.Pid, syscall.SIGKILL)
	<-c.Exited()
	_, err = c.Write(make([]byte, 1<<20))
	var e *ExitError
	if !errors.As(err, &e) || e.Signal != int(syscall.SIGKILL) || e.Aborted {
		t.Fatalf("write to a killed child: %v, want signal 9 not aborted", err)
	}
	if err := c.Commit(); !errors.As(err, &e) || e.Signal != int(syscall.SIGKILL) {
		t.Fatalf("Commit of a killed child: %v", err)
	}
}

func TestAbortKillsAndRemoves(t *testing.T) {
	dir := t.TempDir()
	c, err := Start("test-child", dir, "temp-%d.aof")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	waitFile(t, c.Path)
	c.Abort()
	if _, err := os.Stat(c.Path); !os.IsNotExist(err) {
		t.Fatalf("file still there after Abort: %v", err)
	}
	var e *ExitError
	if err := c.exitError(); !errors.As(err, &e) || !e.Aborted {
		t.Fatalf("exit after Abort: %v, want Aborted", err)
	}
}

// A stream that ends without its end frame (the server gave up, or died)
// leaves no file behind and a failed status.
func TestTruncatedStreamLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	c, err := Start("test-child", dir, "temp-%d.rdb")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("REDIS0011 partial")); err != nil {
		t.Fatal(err)
	}
	waitFile(t, c.Path)
	_ = c.pipe.Close() // as when the server dies: the pipe's write end goes
	<-c.Exited()
	var e *ExitError
	if err := c.exitError(); !errors.As(err, &e) || e.Status != 1 || !bytes.Contains(e.Message, []byte("ended before")) {
		t.Fatalf("exit: %v", err)
	}
	if _, err := os.Stat(c.Path); !os.IsNotExist(err) {
		t.Fatalf("a truncated file was left: %v", err)
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s never appeared", path)
}

// A relay child gives back, in order, every byte it is sent, and exits 0
// once it was sent the end and its output was read.
func TestRelayPassesTheStreamBack(t *testing.T) {
	c, err := StartRelay("test-relay")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Out.Close()
	var want []byte
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(c.Out)
		got <- b
	}()
	for i := 0; i < 300; i++ {
		p := bytes.Repeat([]byte{byte('a' + i%26)}, 3000+i*211) // 10 MiB in all: past the pipes' buffers
		want = append(want, p...)
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.WriteAt([]byte("x"), 0); err == nil {
		t.Fatal("a relay accepted a patch")
	}
	if err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("relayed %d bytes, sent %d (or different contents)", len(b), len(want))
	}
}

// A relay whose server goes (its input ends early) exits with status 1,
// and one killed is reported by its signal; its output ends either way.
func TestRelayEndsWithItsServer(t *testing.T) {
	for _, kill := range []bool{false, true} {
		c, err := StartRelay("test-relay")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("$EOF:partial")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 12)
		if _, err := io.ReadFull(c.Out, buf); err != nil {
			t.Fatal(err)
		}
		if kill {
			_ = syscall.Kill(c.Pid, syscall.SIGKILL)
		} else {
			_ = c.pipe.Close()
		}
		if _, err := io.ReadAll(c.Out); err != nil {
			t.Fatal(err)
		}
		<-c.Exited()
		var e *ExitError
		err = c.exitError()
		if !errors.As(err, &e) || (kill && e.Signal != int(syscall.SIGKILL)) || (!kill && e.Status != 1) {
			t.Fatalf("kill=%v: exit %v", kill, err)
		}
		_ = c.Out.Close()
	}
}

// BenchmarkRelay measures a relay child's throughput: what a diskless
// transfer pays for its child.
func BenchmarkRelay(b *testing.B) {
	c, err := StartRelay("bench-relay")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Out.Close()
	done := make(chan int64)
	go func() {
		n, _ := io.Copy(io.Discard, c.Out)
		done <- n
	}()
	chunk := make([]byte, 64<<10)
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.Commit(); err != nil {
		b.Fatal(err)
	}
	if n := <-done; n != int64(b.N*len(chunk)) {
		b.Fatalf("relayed %d bytes", n)
	}
}
