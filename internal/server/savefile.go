package server

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/corvid-db/corvid/internal/savechild"
)

// saveFile is the temporary file a background save writes (BGSAVE, save
// points, a disk-based full synchronisation, an AOF rewrite's base)
// before the server renames it into place. With Server.SaveChildren it
// is written by a save child (internal/savechild), a process of its own
// as Redis's forked child is: named temp-<its pid>.rdb or
// temp-rewriteaof-bg-<its pid>.aof, and one whose death fails the save.
// Without (a program embedding the server cannot be re-executed as a
// child), the server writes the file itself.
type saveFile struct {
	srv   *Server
	title string // titleRDB or titleAOF: what it saves
	path  string
	f     *os.File         // written in process
	child *savechild.Child // or by a child
	gone  <-chan struct{}  // closed when the child exited; nil in process
	w     io.Writer        // where the bytes go: f or child
	// cancelled: the save was stopped (FLUSHALL, SHUTDOWN) and its file
	// must not be put in place; guarded by srv.saveFiles.mu, under which
	// the file is renamed.
	cancelled bool
}

// Save children's process titles, as Redis names its forked children.
const (
	titleRDB   = "redis-rdb-bgsave"
	titleAOF   = "redis-aof-rewrite"
	titleRelay = "redis-rdb-to-slaves" // a diskless transfer's; counted as titleRDB's
)

// createSaveFile starts a background save's temporary file in dir: with
// a child, named by childPattern (%d: the child's pid); in process, by
// ownName. Every shard may be held: starting a child costs about a
// millisecond, and Redis's tests (and operators) look for the child as
// soon as the save is reported started.
func (s *Server) createSaveFile(title, dir, childPattern, ownName string) (*saveFile, error) {
	if s.SaveChildren {
		began := time.Now()
		c, err := savechild.Start(title, dir, childPattern)
		if err != nil {
			return nil, err
		}
		s.spawnUsec.Store(time.Since(began).Microseconds())
		return s.saveFiles.add(&saveFile{srv: s, title: title, path: c.Path, child: c, gone: c.Exited(), w: c}), nil
	}
	path := filepath.Join(dir, ownName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return s.saveFiles.add(&saveFile{srv: s, title: title, path: path, f: f, w: f}), nil
}

// saveFiles are the background saves' files being written, which the
// server removes (killing their children) when it closes.
type saveFiles struct {
	mu  sync.Mutex
	set map[*saveFile]struct{}
}

func (fs *saveFiles) add(t *saveFile) *saveFile {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.set == nil {
		fs.set = map[*saveFile]struct{}{}
	}
	fs.set[t] = struct{}{}
	return t
}

func (fs *saveFiles) remove(t *saveFile) {
	fs.mu.Lock()
	delete(fs.set, t)
	fs.mu.Unlock()
}

// cancelSaves stops the background saves with the given title (every
// one when title is empty), as Redis kills its child and unlinks its
// file: each is marked so that it is not put in place (the walk may be
// over and its file about to be renamed), its child killed, its file
// removed. The goroutines writing them then fail as stopped saves.
func (s *Server) cancelSaves(title string) {
	s.saveFiles.mu.Lock()
	var files []*saveFile
	for t := range s.saveFiles.set {
		if title == "" || t.title == title {
			t.cancelled = true
			files = append(files, t)
		}
	}
	s.saveFiles.mu.Unlock()
	for _, t := range files {
		if t.child != nil {
			t.child.Abort()
		}
		if t.path != "" {
			_ = os.Remove(t.path)
		}
	}
}

// killSaveChildren is cancelSaves for every save: the server is exiting.
func (s *Server) killSaveChildren() { s.cancelSaves("") }

// pid is the process that writes the file: the child's, or the server's.
func (t *saveFile) pid() int {
	if t.child != nil {
		return t.child.Pid
	}
	return os.Getpid()
}

// watch calls stop (at most once) if the child exits before the file is
// committed, so that a snapshot feeding a dead child ends at once rather
// than at its next write (a save slowed by rdb-key-save-delay may not
// write for seconds). The returned function ends the watch.
func (t *saveFile) watch(stop func()) (end func()) {
	if t.gone == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-t.gone:
			stop()
		case <-done:
		}
	}()
	return func() { close(done) }
}

// commit completes the file (fsynced and closed) and returns its size;
// on failure the file is removed. A child that died is reported by its
// exit (savechild.ExitError), whatever the writer saw. The caller then
// puts the file in place (install) or gives it up (abort).
func (t *saveFile) commit() (int64, error) {
	if t.child != nil {
		err := t.child.Commit()
		if err != nil {
			t.forget()
			_ = os.Remove(t.path)
		}
		n, _ := t.child.Seek(0, io.SeekCurrent)
		return n, err
	}
	err := t.f.Sync()
	st, serr := t.f.Stat()
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		t.forget()
		_ = os.Remove(t.path)
		return 0, err
	}
	return st.Size(), nil
}

// install renames the committed file to dst, unless the save was
// cancelled meanwhile (then it is removed and errSnapshotAborted
// returned): under saveFiles.mu, so that a save stopped by FLUSHALL or
// SHUTDOWN, whose own file is then written, cannot put an older one over
// it.
func (t *saveFile) install(dst string) error {
	fs := &t.srv.saveFiles
	fs.mu.Lock()
	defer fs.mu.Unlock()
	delete(fs.set, t)
	if t.cancelled {
		_ = os.Remove(t.path)
		return errSnapshotAborted
	}
	if err := os.Rename(t.path, dst); err != nil {
		_ = os.Remove(t.path)
		return err
	}
	return nil
}

// forget takes t off the server's list of saves under way.
func (t *saveFile) forget() {
	if t.srv != nil {
		t.srv.saveFiles.remove(t)
	}
}

// abort gives the file up: the child is killed, the file removed. err is
// why; abort returns the error to report: the child's exit if it died
// first, errSnapshotAborted if the save was cancelled.
func (t *saveFile) abort(err error) error {
	t.forget()
	if t.child != nil {
		select {
		case <-t.gone:
			if cerr := t.child.Wait(); cerr != nil {
				err = cerr // how it died says more than the broken pipe
			}
		default:
			t.child.Abort()
		}
	} else {
		_ = t.f.Close()
	}
	if t.path != "" {
		_ = os.Remove(t.path)
	}
	return err
}

// childExitSignal returns the signal that ended a save child, if err says
// one did and the server did not send it.
func childExitSignal(err error) (int, bool) {
	e, ok := err.(*savechild.ExitError)
	if !ok || e.Signal == 0 || e.Aborted {
		return 0, false
	}
	return e.Signal, true
}

// isAbortedChild reports whether err is a save child the server killed
// itself (the save was stopped: FLUSHALL, SHUTDOWN, a rewrite replaced).
func isAbortedChild(err error) bool {
	e, ok := err.(*savechild.ExitError)
	return ok && e.Aborted
}
