// Package savechild runs the process that writes a background save's file
// (BGSAVE, save points, a disk-based full synchronisation, an AOF
// rewrite's base), as Redis's forked child does.
//
// Corvid does not fork: the server walks its own dataset for a snapshot
// while it serves commands (internal/keyspace/snapshot.go). What it hands
// to the child is the encoded file, over a pipe; the child writes it to
// a temporary file named after its own pid (temp-<pid>.rdb,
// temp-rewriteaof-bg-<pid>.aof), fsyncs it and exits 0. The server then
// renames it into place. So a save has a process of its own, as
// operators and tools expect of a Redis-compatible server: it shows in
// ps under its parent, its file bears its pid, and killing it (the OOM
// killer, an operator, Redis's test suite) fails that save and only that
// save, which the server reports as Redis does ("Background saving
// terminated by signal 9", rdb_last_bgsave_status:err, MISCONF). The file
// I/O and its fsync are the child's, off the server's threads. A child
// whose server dies sees its pipe end and removes its temporary file.
//
// The pipe carries frames: data to append, a patch of bytes already
// written (an RDB file's version label, corrected at the end), and the
// end. A pipe that ends without the end frame means the server gave up
// or died: the child removes its file and exits 1.
//
// A diskless transfer to replicas has a child too (StartRelay), as
// Redis's redis-rdb-to-slaves: it passes the stream it is sent back to
// the server over a second pipe, which the server reads and writes to
// the replicas' sockets. It owns no file; it is what makes the transfer
// a process of its own, ended by the same signals and reported in the
// same words as Redis's, and it exits when its server dies.
package savechild

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
)

// envMode is the environment variable that makes the binary a child: it
// holds the temporary file's name pattern (one %d, the child's pid), and
// envDir its directory.
const (
	envMode = "CORVID_SAVE_CHILD"
	envDir  = "CORVID_SAVE_CHILD_DIR"
)

// relayMode is envMode's value for a relay child (StartRelay).
const relayMode = "relay"

// Frame kinds.
const (
	frameData  = 'D' // 8-byte length, then that many bytes to append
	framePatch = 'P' // 8-byte offset, 4-byte length, bytes to write there
	frameEnd   = 'E' // the file is complete
)

// IsChild reports whether this process was started as a save child. A
// program that runs servers with Children set calls it first thing in
// main and, when true, exits with Main's status.
func IsChild() bool { return os.Getenv(envMode) != "" }

// Main is the child: it writes the frames read from stdin to its file and
// returns the process's exit status.
func Main() int {
	// Its server decides when it ends (it kills it, or closes the pipe):
	// a Ctrl-C or SIGTERM sent to the process group is the server's to
	// handle, which may save first.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	if os.Getenv(envMode) == relayMode {
		if err := relay(bufio.NewReaderSize(os.Stdin, 1<<20), os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	path := filepath.Join(os.Getenv(envDir), fmt.Sprintf(os.Getenv(envMode), os.Getpid()))
	if err := receive(bufio.NewReaderSize(os.Stdin, 1<<20), path); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// receive writes the frames read from in to a new file at path and
// fsyncs it; on any failure, the end of in before the end frame
// included, it removes the file.
func receive(in *bufio.Reader, path string) (err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	var hdr [12]byte
	for {
		kind, err := in.ReadByte()
		if err != nil {
			return errors.New("savechild: the server's stream ended before the file did")
		}
		switch kind {
		case frameData:
			if _, err := io.ReadFull(in, hdr[:8]); err != nil {
				return err
			}
			n := int64(binary.LittleEndian.Uint64(hdr[:8]))
			if _, err := io.CopyN(f, in, n); err != nil {
				return err
			}
		case framePatch:
			if _, err := io.ReadFull(in, hdr[:12]); err != nil {
				return err
			}
			off := int64(binary.LittleEndian.Uint64(hdr[:8]))
			p := make([]byte, binary.LittleEndian.Uint32(hdr[8:12]))
			if _, err := io.ReadFull(in, p); err != nil {
				return err
			}
			if _, err := f.WriteAt(p, off); err != nil {
				return err
			}
		case frameEnd:
			return f.Sync()
		default:
			return fmt.Errorf("savechild: unknown frame %q", kind)
		}
	}
}

// relay copies the data frames read from in to out, and closes out at
// the end frame. A stream that ends before it (the server died or gave
// up) or a write that fails (nobody reads out any more) is an error.
func relay(in *bufio.Reader, out *os.File) error {
	var hdr [8]byte
	for {
		kind, err := in.ReadByte()
		if err != nil {
			return errors.New("savechild: the server's stream ended before the transfer did")
		}
		switch kind {
		case frameData:
			if _, err := io.ReadFull(in, hdr[:]); err != nil {
				return err
			}
			if _, err := io.CopyN(out, in, int64(binary.LittleEndian.Uint64(hdr[:]))); err != nil {
				return err
			}
		case frameEnd:
			return out.Close()
		default:
			return fmt.Errorf("savechild: frame %q in a transfer", kind)
		}
	}
}

// Child is the server's side of one save child: an io.Writer for the
// file's bytes, and io.WriterAt and io.Seeker so that the RDB writer can
// correct what it wrote (the rdb package's relabelling).
type Child struct {
	// Pid is the child's process ID, and Path the temporary file it
	// writes (removed by the child or by Abort when the save fails).
	Pid  int
	Path string

	// Out is what a relay child passes back (StartRelay); nil otherwise.
	Out *os.File

	cmd    *exec.Cmd
	pipe   *os.File
	stderr bytes.Buffer
	n      int64 // bytes of the file sent so far

	exited  chan struct{} // closed when the process has been waited for
	waitErr error
	mu      sync.Mutex
	killed  bool // Abort killed it
}

// Start starts a child that writes the file dir/pattern (pattern's %d is
// the child's pid). title is the process's argv[0], as Redis names its
// children (redis-rdb-bgsave, redis-aof-rewrite).
func Start(title, dir, pattern string) (*Child, error) {
	c, err := start(title, []string{envMode + "=" + pattern, envDir + "=" + dir}, nil)
	if err != nil {
		return nil, err
	}
	c.Path = filepath.Join(dir, fmt.Sprintf(pattern, c.Pid))
	return c, nil
}

// StartRelay starts a relay child: what is written to it comes back on
// its Out, which the caller reads to the end (Commit waits for the
// child, which cannot end before its output is read).
func StartRelay(title string) (*Child, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	growPipe(w)
	c, err := start(title, []string{envMode + "=" + relayMode}, w)
	_ = w.Close() // the child's now
	if err != nil {
		_ = r.Close()
		return nil, err
	}
	c.Out = r
	return c, nil
}

// start starts the binary as a child titled title with env added to its
// environment, stdout as its standard output (nil: none).
func start(title string, env []string, stdout *os.File) (*Child, error) {
	exe, err := executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	growPipe(w)
	c := &Child{exited: make(chan struct{})}
	c.cmd = &exec.Cmd{
		Path:   exe,
		Args:   []string{title},
		Env:    append(os.Environ(), env...),
		Stdin:  r,
		Stderr: &limitedBuffer{b: &c.stderr, max: 4096},
	}
	if stdout != nil {
		c.cmd.Stdout = stdout
	}
	if err := c.cmd.Start(); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, err
	}
	_ = r.Close()
	c.pipe = w
	c.Pid = c.cmd.Process.Pid
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// executable is the running binary: on Linux /proc/self/exe, which
// still names it after an upgrade replaced or removed the file (the
// child must be the same build as its server); elsewhere its path.
func executable() (string, error) {
	const self = "/proc/self/exe"
	if _, err := os.Stat(self); err == nil {
		return self, nil
	}
	return os.Executable()
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Write sends p to be appended to the file.
func (c *Child) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var hdr [9]byte
	hdr[0] = frameData
	binary.LittleEndian.PutUint64(hdr[1:], uint64(len(p)))
	if err := c.send(hdr[:], p); err != nil {
		return 0, err
	}
	c.n += int64(len(p))
	return len(p), nil
}

// WriteAt sends p to be written at off, within what was written already.
func (c *Child) WriteAt(p []byte, off int64) (int, error) {
	if c.Out != nil {
		return 0, errors.New("savechild: a transfer's bytes are gone once sent")
	}
	if off < 0 || off+int64(len(p)) > c.n || len(p) > math.MaxUint32 {
		return 0, errors.New("savechild: patch beyond the bytes written")
	}
	var hdr [13]byte
	hdr[0] = framePatch
	binary.LittleEndian.PutUint64(hdr[1:9], uint64(off))
	binary.LittleEndian.PutUint32(hdr[9:13], uint32(len(p)))
	if err := c.send(hdr[:], p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Seek reports the file's size so far (whence io.SeekCurrent, offset 0:
// where the next byte goes); the child's file cannot be moved about.
func (c *Child) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekCurrent {
		return 0, errors.New("savechild: the file can only be appended to")
	}
	return c.n, nil
}

func (c *Child) send(hdr, p []byte) error {
	if _, err := c.pipe.Write(hdr); err != nil {
		return c.sendErr(err)
	}
	if _, err := c.pipe.Write(p); err != nil {
		return c.sendErr(err)
	}
	return nil
}

// sendErr explains a write to the pipe that failed: the child is gone
// (EPIPE), or Abort closed the pipe (os.ErrClosed), which it does only
// after killing the child.
func (c *Child) sendErr(err error) error {
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed) {
		return c.Wait()
	}
	return err
}

// Wait waits for the child to exit and returns how it ended (exitError).
func (c *Child) Wait() error {
	<-c.exited
	return c.exitError()
}

// Commit ends the file, waits for the child to fsync it and exit, and
// returns nil only if it did so with status 0.
func (c *Child) Commit() error {
	if _, err := c.pipe.Write([]byte{frameEnd}); err != nil {
		_ = c.pipe.Close()
		return c.sendErr(err)
	}
	_ = c.pipe.Close()
	return c.Wait()
}

// Abort kills the child, waits for it, and removes its file.
func (c *Child) Abort() {
	c.mu.Lock()
	c.killed = true
	c.mu.Unlock()
	_ = c.cmd.Process.Kill()
	_ = c.pipe.Close()
	<-c.exited
	if c.Path != "" {
		_ = os.Remove(c.Path)
	}
}

// Exited is closed when the child has exited, whatever the reason.
func (c *Child) Exited() <-chan struct{} { return c.exited }

// ExitError is how the child ended, once Exited is closed: nil for
// status 0, an *ExitError otherwise.
func (c *Child) exitError() error {
	if c.waitErr == nil {
		return nil
	}
	e := &ExitError{Status: -1, Message: bytes.TrimSpace(c.stderr.Bytes())}
	var ee *exec.ExitError
	if errors.As(c.waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			if ws.Signaled() {
				e.Signal = int(ws.Signal())
			} else {
				e.Status = ws.ExitStatus()
			}
		}
	}
	c.mu.Lock()
	e.Aborted = c.killed
	c.mu.Unlock()
	return e
}

// ExitError is a child that did not complete its file.
type ExitError struct {
	Signal  int    // the signal that ended it, or 0
	Status  int    // its exit status when no signal ended it
	Aborted bool   // the server killed it (Abort)
	Message []byte // what it wrote to stderr, if anything
}

func (e *ExitError) Error() string {
	switch {
	case e.Signal != 0:
		return fmt.Sprintf("save child terminated by signal %d", e.Signal)
	case len(e.Message) > 0:
		return string(e.Message)
	}
	return fmt.Sprintf("save child exited with status %d", e.Status)
}
