//go:build linux

package server

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// eventLoopsSupported reports whether this platform has the epoll event
// loops; elsewhere every connection has a goroutine of its own.
const eventLoopsSupported = true

// eventLoop serves connections the way Redis's ae loop does: one goroutine
// waits on an epoll set and, for each connection epoll reports ready, in
// the order it reports them, reads once, runs every complete command and
// writes the replies with one write. Go's netpoller readies a batch of
// connection goroutines in the reverse of their readiness order, which
// serves some clients again and again while others wait and stretches the
// latency tail; a loop per core serves them first come, first served, and
// needs no goroutine (nor its stack) per connection.
//
// A connection leaves its loop for a goroutine of its own when a command
// needs to park it (a CLIENT PAUSE, MONITOR, blocking pops); see migrate.
type eventLoop struct {
	srv  *Server
	epfd int
	// epFile and rawEp wrap epfd for Go's netpoller (see wait).
	epFile *os.File
	rawEp  syscall.RawConn
	wakeR  int // read end of the pipe that wakes the loop
	wakeW  int

	mu       sync.Mutex
	incoming []*Client // accepted connections, not yet registered (guarded by mu)
	woken    []*Client // clients with pushes in their inbox (guarded by mu)
	spare    []*Client // the previous woken slice, reused (owned by the loop)
	// running: the loop is between two waits and checks woken before it
	// waits again, so a push needs no wake-up through the pipe (guarded
	// by mu). A PUBLISH to a subscriber on the same loop then costs no
	// system call of its own.
	running bool
	// fdsClosed: closeFds ran (guarded by mu).
	fdsClosed bool

	// Owned by the loop goroutine.
	clients  []*Client // indexed by file descriptor
	writes   []*Client // connections with replies to write after the batch
	events   []syscall.EpollEvent
	lastCron time.Time

	// Barriers (settleOthers): a pass that began after barrierReq reached
	// n reports n in barrierDone when it ends.
	barrierReq  atomic.Uint64
	barrierDone atomic.Uint64
	polledReq   uint64 // barrierReq when the last poll began (owned by the loop)
	// barrierWaiters are told (their channel closed) when barrierDone
	// reaches their number (guarded by mu; nbarrier counts them, so that
	// a pass with none takes no lock for them).
	barrierWaiters []barrierWaiter
	nbarrier       atomic.Int32
}

// barrierWaiter is a settleOthers waiting for a loop's pass.
type barrierWaiter struct {
	want uint64
	ch   chan struct{}
}

// loopCronInterval is how often a loop looks after its idle connections
// (query buffer release), as Redis's clientsCron does at hz 10.
const loopCronInterval = 100 * time.Millisecond

func newEventLoop(s *Server) (*eventLoop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		_ = syscall.Close(epfd)
		return nil, err
	}
	l := &eventLoop{srv: s, epfd: epfd, wakeR: p[0], wakeW: p[1], events: make([]syscall.EpollEvent, 256), lastCron: time.Now()}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p[0], &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(p[0])}); err != nil {
		l.closeFds()
		return nil, err
	}
	// A non-blocking descriptor given to os.NewFile joins Go's netpoller.
	if err := syscall.SetNonblock(epfd, true); err != nil {
		l.closeFds()
		return nil, err
	}
	l.epFile = os.NewFile(uintptr(epfd), "epoll")
	raw, err := l.epFile.SyscallConn()
	if err != nil {
		l.closeFds()
		return nil, err
	}
	l.rawEp = raw
	return l, nil
}

func (l *eventLoop) closeFds() {
	l.mu.Lock()
	l.fdsClosed = true // wake must not write to a number reused since
	l.mu.Unlock()
	if l.epFile != nil {
		_ = l.epFile.Close()
	} else {
		_ = syscall.Close(l.epfd)
	}
	_ = syscall.Close(l.wakeR)
	_ = syscall.Close(l.wakeW)
}

// wake interrupts the loop's wait (new connections, shutdown).
func (l *eventLoop) wake() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fdsClosed {
		return
	}
	b := [1]byte{1}
	_, _ = syscall.Write(l.wakeW, b[:])
}

// barrierWait bounds how long settleOthers waits for a busy loop (one
// running a long command, or not given a core): the ordering it gives is
// best effort past that.
const barrierWait = 50 * time.Millisecond

// settleOthers waits until every loop but self has run a pass that began
// after the call, so that the commands other connections had sent before
// it are executed: what a single-threaded server gives a client that
// acts on one connection and then looks on another (INFO's
// blocked_clients after two blocking SHUTDOWNs, CLIENT LIST after a
// CLIENT SETNAME elsewhere). A loop busy for longer than barrierWait is
// not waited for further.
func (s *Server) settleOthers(self *eventLoop) {
	select {
	case <-s.done:
		return // the loops are ending
	default:
	}
	var timer *time.Timer
	for _, l := range s.loops {
		if l == self {
			continue
		}
		w := barrierWaiter{want: l.barrierReq.Add(1), ch: make(chan struct{})}
		l.mu.Lock()
		if l.fdsClosed {
			l.mu.Unlock()
			continue
		}
		l.barrierWaiters = append(l.barrierWaiters, w)
		l.nbarrier.Add(1)
		l.mu.Unlock()
		l.wake()
		if timer == nil {
			timer = time.NewTimer(barrierWait)
			defer timer.Stop()
		}
		select {
		case <-w.ch:
		case <-timer.C:
			return
		}
	}
}

// releaseBarriers tells the waiters whose pass is done; the loop calls it.
func (l *eventLoop) releaseBarriers() {
	done := l.barrierDone.Load()
	l.mu.Lock()
	kept := l.barrierWaiters[:0]
	for _, w := range l.barrierWaiters {
		if w.want <= done {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	l.barrierWaiters = kept
	l.nbarrier.Store(int32(len(kept)))
	l.mu.Unlock()
}

// adopt hands an accepted connection to the loop. The client keeps the
// socket through a duplicate of its descriptor; the net.Conn is closed.
func (l *eventLoop) adopt(c *Client) error {
	sc, ok := c.conn.(syscall.Conn)
	if !ok {
		return errors.New("connection has no file descriptor")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(f uintptr) {
		fd, dupErr = dupCloexec(int(f))
	}); err != nil {
		return err
	}
	if dupErr != nil {
		return dupErr
	}
	// The duplicate shares the open socket, which Go made non-blocking;
	// closing the net.Conn only drops Go's descriptor and poller entry.
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return err
	}
	_ = c.conn.Close()
	c.fdMu.Lock()
	c.conn = nil
	c.sysfd = fd
	c.fdMu.Unlock()
	c.lp = l
	c.inLoop.Store(true)
	c.loopRef.Store(l)
	l.mu.Lock()
	l.incoming = append(l.incoming, c)
	l.mu.Unlock()
	l.wake()
	return nil
}

func dupCloexec(fd int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// run is the loop's goroutine.
func (l *eventLoop) run() {
	defer l.srv.wg.Done()
	defer l.closeFds()
	for {
		n, err := l.wait()
		if err != nil && err != syscall.EINTR {
			l.srv.Log.Warningf("epoll_wait: %v", err)
			time.Sleep(time.Millisecond)
		}
		l.mu.Lock()
		l.running = true
		l.mu.Unlock()
		for i := 0; i < n; i++ {
			ev := &l.events[i]
			fd := int(ev.Fd)
			if fd == l.wakeR {
				l.takeIncoming()
				continue
			}
			if fd < len(l.clients) && l.clients[fd] != nil {
				l.handle(l.clients[fd], ev.Events)
			}
		}
		l.writeReplies()
		l.settle()
		l.barrierDone.Store(l.polledReq)
		if l.nbarrier.Load() > 0 {
			l.releaseBarriers()
		}
		select {
		case <-l.srv.done:
			l.takeIncoming()
			for _, c := range l.clients {
				if c != nil {
					l.closeClient(c)
				}
			}
			return
		default:
		}
		if now := time.Now(); now.Sub(l.lastCron) >= loopCronInterval {
			l.lastCron = now
			l.cron()
		}
	}
}

// wait returns the next batch of ready events. It never blocks in a
// system call: a thread blocked in epoll_wait loses its P to the runtime,
// and getting one back when the events come costs a trip through the
// scheduler that showed up as a long latency tail. Instead the loop's epoll
// descriptor is itself registered with Go's netpoller, which parks the
// goroutine until the descriptor is readable (some connection is ready).
func (l *eventLoop) wait() (n int, err error) {
	n, err = l.poll(0)
	if n > 0 || err != nil {
		return n, err
	}
	rerr := l.rawEp.Read(func(uintptr) bool {
		n, err = l.poll(0)
		return n > 0 || err != nil
	})
	if rerr != nil && err == nil {
		err = rerr
	}
	return n, err
}

// poll is epoll_wait without a timeout, as a raw system call.
func (l *eventLoop) poll(msec int) (int, error) {
	l.polledReq = l.barrierReq.Load() // before the poll: it sees what came before
	r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), uintptr(msec), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// takeIncoming registers the connections adopt queued.
func (l *eventLoop) takeIncoming() {
	var buf [64]byte
	for {
		if n, _ := syscall.Read(l.wakeR, buf[:]); n <= 0 {
			break
		}
	}
	l.mu.Lock()
	in := l.incoming
	l.incoming = nil
	woken := l.woken
	l.woken = nil
	l.mu.Unlock()
	l.drainWoken(woken)
	for _, c := range in {
		fd := c.sysfd
		for fd >= len(l.clients) {
			l.clients = append(l.clients, make([]*Client, len(l.clients)+64)...)
		}
		l.clients[fd] = c
		if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}); err != nil {
			l.closeClient(c)
		}
	}
}

// drainWoken moves the inboxes of the woken clients into their output
// and queues the writes. The flag is cleared before the drain: a push that
// comes after it queues the client again.
func (l *eventLoop) drainWoken(woken []*Client) {
	for i, c := range woken {
		woken[i] = nil
		c.wakePending.Store(false)
		if c.sysfd < 0 || c.sysfd >= len(l.clients) || l.clients[c.sysfd] != c {
			continue // gone, or not registered yet
		}
		c.drainInbox()
		c.accountMemory()
		if c.w.Len() > 0 && !c.writeQueued && !c.outWait {
			c.writeQueued = true
			l.writes = append(l.writes, c)
		}
	}
}

// requeueInbox puts a client whose socket took all its output back on the
// woken list when its inbox holds more (drainInbox moves a batch at a
// time); the loop is running, so settle picks it up without a wake-up.
func (l *eventLoop) requeueInbox(c *Client) {
	if c.inboxPending() && c.wakePending.CompareAndSwap(false, true) {
		l.mu.Lock()
		l.woken = append(l.woken, c)
		l.mu.Unlock()
	}
}

// settle serves the pushes that arrived while the loop was running (from
// its own commands, or other goroutines that saw it running) and then
// marks it waiting, under the same lock as pushers check it.
func (l *eventLoop) settle() {
	for round := 0; ; round++ {
		l.mu.Lock()
		woken := l.woken
		if len(woken) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		if round == 8 {
			// A fast reader fed from other loops could keep this going
			// forever: serve the other connections, and come back
			// through the pipe.
			l.running = false
			l.mu.Unlock()
			l.wake()
			return
		}
		l.woken = l.spare
		l.spare = nil
		l.mu.Unlock()
		l.drainWoken(woken)
		l.spare = woken[:0]
		l.writeReplies()
	}
}

// interest switches what the loop waits for on c: input, and also room to
// write the replies a slow reader left pending. Input is still read then,
// as Redis does: what a client that does not read is owed is bounded by
// the output limits and client eviction, which close it.
func (l *eventLoop) interest(c *Client, events uint32) {
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, c.sysfd, &syscall.EpollEvent{Events: events, Fd: int32(c.sysfd)})
}

func (l *eventLoop) handle(c *Client, events uint32) {
	if c.outPending() {
		if !c.flushNonBlocking() {
			l.closeClient(c)
			return
		}
		c.parkOutput()
		c.accountMemory()
		if !c.outPending() {
			if c.closeAfter || c.killed.Load() {
				l.closeClient(c) // QUIT's reply, or the last words, went out
				return
			}
			l.interest(c, syscall.EPOLLIN)
			l.requeueInbox(c)
		}
		if events&(syscall.EPOLLIN|syscall.EPOLLHUP|syscall.EPOLLERR) == 0 {
			return // only room to write
		}
	}
	if c.killed.Load() {
		l.closeClient(c)
		return
	}
	c.queryBufCron()
	n, err := c.parser.Fill(fdReader(c.sysfd))
	for err == nil && n > 0 && c.parser.InBigArg() {
		// The rest of a big argument, as far as it has arrived: its
		// size then counts at once (maxmemory-clients, CLIENT LIST).
		m, e := c.parser.Fill(fdReader(c.sysfd))
		n, err = n+m, e
		if m == 0 {
			break
		}
	}
	if n > 0 {
		l.srv.Stats.NetInput.Add(int64(n))
		l.srv.Stats.IOReads.Add(1)
		c.lastInteraction.Store(time.Now().Unix())
	}
	if err != nil {
		if err == syscall.EAGAIN || err == syscall.EINTR {
			if n == 0 {
				return
			}
		} else {
			c.logReadError(err)
			l.closeClient(c)
			return
		}
	}
	if n > 0 && !c.checkClientMemory() {
		l.closeClient(c) // evicted by what it sent (maxmemory-clients)
		return
	}
	l.process(c)
	if c.sysfd >= 0 && c.lp == l {
		// Make the room the next read needs now (a big argument half
		// read), so CLIENT LIST shows the buffer the client waits on, as
		// the goroutine path does before its blocking read.
		c.queryBufCron()
		c.accountMemory()
	}
}

// process runs the buffered commands and decides what c waits for next.
func (l *eventLoop) process(c *Client) {
	if c.outWait && c.inboxPending() && c.parser.Buffered() > 0 {
		// Commands run while earlier output waits for the socket: what
		// was pushed to the client before them goes before their replies.
		c.drainWholeInbox()
	}
	if !c.runBuffered(time.Now().UnixMilli()) {
		l.closeClient(c)
		return
	}
	switch {
	case c.migrating:
		l.migrate(c)
	case c.w.Len() > 0:
		if !c.writeQueued {
			c.writeQueued = true
			l.writes = append(l.writes, c)
		}
	case c.closeAfter || c.killed.Load():
		l.closeClient(c)
	}
}

// writeReplies writes the replies of the batch just run, in the order the
// connections became ready. Writing after the whole batch, as Redis does
// before it sleeps again, keeps the clients of a loop in step: each waits
// about one batch, instead of some being answered at once and others
// after several batches.
func (l *eventLoop) writeReplies() {
	if len(l.writes) > 0 {
		l.srv.flushForReplies() // the AOF first: no reply before its write is on disk
	}
	for i, c := range l.writes {
		l.writes[i] = nil
		c.writeQueued = false
		if c.sysfd < 0 || c.lp != l {
			continue // closed or migrated meanwhile
		}
		if !c.flushNonBlocking() {
			l.closeClient(c)
			continue
		}
		c.parkOutput()
		c.accountMemory()
		switch {
		case c.outPending():
			l.interest(c, syscall.EPOLLIN|syscall.EPOLLOUT)
		case c.closeAfter || c.killed.Load():
			l.closeClient(c)
		default:
			l.requeueInbox(c)
		}
	}
	l.writes = l.writes[:0]
}

// closeClient ends a connection the loop serves.
func (l *eventLoop) closeClient(c *Client) {
	fd := c.sysfd
	if fd < 0 {
		return
	}
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
	if fd < len(l.clients) && l.clients[fd] == c {
		l.clients[fd] = nil
	}
	c.fdMu.Lock()
	_ = syscall.Close(fd)
	c.sysfd = -1
	c.fdMu.Unlock()
	c.inLoop.Store(false)
	c.loopRef.Store(nil)
	c.Kill()
	c.discardTx()
	c.unregister()
}

// migrate moves c to a goroutine of its own, which first runs the command
// that asked for it (see Client.requestGoroutine).
func (l *eventLoop) migrate(c *Client) {
	fd := c.sysfd
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
	if fd < len(l.clients) && l.clients[fd] == c {
		l.clients[fd] = nil
	}
	// The socket is blocking-safe for the netpoller: FileConn duplicates
	// the descriptor and registers the duplicate with Go's poller.
	f := os.NewFile(uintptr(fd), "client")
	nc, err := net.FileConn(f)
	c.fdMu.Lock()
	_ = f.Close()
	c.sysfd = -1
	c.conn = nc
	killed := c.killed.Load()
	c.fdMu.Unlock()
	c.lp = nil
	c.inLoop.Store(false)
	c.loopRef.Store(nil)
	if err != nil || killed {
		if nc != nil {
			_ = nc.Close()
		}
		c.Kill()
		c.discardTx()
		c.unregister()
		return
	}
	l.srv.wg.Add(1)
	go func() {
		defer l.srv.wg.Done()
		c.serveMigrated()
	}()
}

// cron releases idle connections' query buffers (clientsCron's resize).
func (l *eventLoop) cron() {
	for _, c := range l.clients {
		if c != nil && !c.outPending() {
			c.queryBufCron()
		}
	}
}

// fdReader reads a non-blocking socket: EAGAIN means no input yet.
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(r), uintptr(unsafePointer(p)), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return int(n), nil
}

// flushNonBlocking writes as much of the pending replies as the socket
// takes; the rest waits for the loop to report room (outPending). It
// returns false if the connection failed.
func (c *Client) flushNonBlocking() bool {
	wrote := false
	for len(c.outList) > 0 {
		b := c.outList[0]
		n, e := writeFd(c.sysfd, b)
		if e == syscall.EAGAIN {
			break
		}
		if e != nil {
			return false
		}
		c.srv.Stats.NetOutput.Add(int64(n))
		wrote = true
		c.outListLen -= n
		if n < len(b) {
			c.outList[0] = b[n:]
			continue
		}
		c.outList[0] = nil
		c.outList = c.outList[1:]
	}
	for len(c.outList) == 0 && c.outOff < len(c.w.Buf) {
		n, e := writeFd(c.sysfd, c.w.Buf[c.outOff:])
		if e == syscall.EAGAIN {
			break
		}
		if e != nil {
			return false
		}
		c.outOff += n
		c.srv.Stats.NetOutput.Add(int64(n))
		wrote = true
	}
	if wrote {
		c.srv.Stats.IOWrites.Add(1)
		c.lastInteraction.Store(time.Now().Unix())
	}
	if len(c.outList) == 0 {
		c.outList = nil // its backing array held the blocks written
	}
	c.outWait = len(c.outList) > 0 || c.outOff < len(c.w.Buf)
	if !c.outWait {
		c.outOff = 0
		if cap(c.w.Buf) > 1<<20 && !c.srv.admin().replyBufKeep.Load() {
			c.w.Buf = nil
		}
		c.w.Reset()
		if c.outQueued.Load() != 0 {
			c.outQueued.Store(0)
		}
	} else {
		c.outQueued.Store(int64(c.unwritten()))
	}
	return true
}

// writeFd is one write(2) to a non-blocking socket, retried on EINTR.
func writeFd(fd int, p []byte) (int, error) {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafePointer(p)), uintptr(len(p)))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(n), nil
	}
}

func unsafePointer(p []byte) unsafe.Pointer {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Pointer(&p[0])
}

// wakeClient makes the loop move c's inbox into its output (Client.push).
func (l *eventLoop) wakeClient(c *Client) {
	if !c.wakePending.CompareAndSwap(false, true) {
		return // queued already; the loop drains the whole inbox
	}
	l.mu.Lock()
	l.woken = append(l.woken, c)
	running := l.running
	l.mu.Unlock()
	if !running {
		l.wake()
	}
}
