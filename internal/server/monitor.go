package server

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// errMonitorDenyBlocking is Redis's refusal of MONITOR from a client that
// needs one reply per command (inside MULTI, from a script).
const errMonitorDenyBlocking = "ERR MONITOR isn't allowed for DENY BLOCKING client"

// asyncOutLimit is how much feed a monitor may leave unread before it is
// dropped; Redis would let the output buffer grow without bound (monitors
// count as normal clients, whose default limit is none), which a slow
// monitor on a busy server turns into an out-of-memory.
const asyncOutLimit = 32 << 20

// monitorCommand is MONITOR. The client's +OK is queued ahead of any feed,
// and from then on its output goes through the writer goroutine (see
// handOff); a second MONITOR is ignored without a reply, as in Redis.
func monitorCommand(c *command.Ctx) {
	cl := client(c)
	if cl.isMonitor.Load() || cl.monitorPending {
		return
	}
	c.OK()
	cl.startAsync()
	cl.monitorPending = true
}

// startAsync switches the client's output to the writer goroutine.
func (c *Client) startAsync() {
	if c.async {
		return
	}
	c.async = true
	c.asyncSig = make(chan struct{}, 1)
	c.asyncStop = make(chan struct{})
	c.asyncDone = make(chan struct{})
	// Pushes other goroutines left in the inbox go out first, and the
	// switch happens under asyncMu, so none is stranded or reordered.
	c.asyncMu.Lock()
	if c.inbox.size() > 0 {
		c.asyncBytes.Add(int64(c.inbox.size()))
		c.asyncOut = c.inbox.moveTo(c.asyncOut, c.inbox.size())
		c.inboxBytes.Store(0)
	}
	c.asyncOn.Store(true)
	c.asyncMu.Unlock()
	go c.asyncWriter()
	if len(c.asyncOut) > 0 {
		select {
		case c.asyncSig <- struct{}{}:
		default:
		}
	}
}

// handOff moves the replies the owner goroutine has produced to the writer
// goroutine's queue. The dispatcher calls it after each command of an async
// client, before feeding the monitors, so a monitor sees its own reply
// before the feed line of its own command, as Redis orders them. A MONITOR
// just executed is registered here, after its +OK is queued, so no feed
// line can overtake the +OK.
func (c *Client) handOff() {
	if c.w.Len() > 0 {
		c.enqueueAsync(c.w.Buf)
		if cap(c.w.Buf) > 1<<20 {
			c.w.Buf = nil
		}
		c.w.Reset()
	}
	if c.monitorPending {
		c.monitorPending = false
		s := c.srv
		s.clientsMu.Lock()
		if !c.killed.Load() {
			c.isMonitor.Store(true)
			s.monitors = append(s.monitors, c)
			s.nmonitors.Store(int32(len(s.monitors)))
		}
		s.clientsMu.Unlock()
	}
}

// enqueueAsync queues output for the writer goroutine; feeders in other
// goroutines call it too. A client whose queue passes asyncOutLimit is
// dropped, as an output-buffer limit would.
func (c *Client) enqueueAsync(b []byte) {
	c.asyncMu.Lock()
	if c.overOutputLimit(len(c.asyncOut) + len(b)) {
		c.asyncMu.Unlock()
		c.killForOutputLimit()
		return
	}
	c.asyncOut = append(c.asyncOut, b...)
	c.asyncBytes.Add(int64(len(b)))
	c.asyncMu.Unlock()
	if c.srv.clientMem.limit.Load() > 0 {
		c.srv.recountClient(c)
	}
	select {
	case c.asyncSig <- struct{}{}:
	default:
	}
}

// killForOutputLimit drops a client whose pending output passed its limit.
func (c *Client) killForOutputLimit() {
	c.srv.Log.Warningf("Client id=%d addr=%s closed for overcoming of output buffer limits.", c.ID, c.addr)
	c.Kill()
}

// asyncPending returns the bytes queued and not yet written (omem).
func (c *Client) asyncPending() int {
	c.asyncMu.Lock()
	defer c.asyncMu.Unlock()
	return len(c.asyncOut)
}

// asyncWriter is the only goroutine that writes an async client's socket.
// Asked to stop, it writes what is queued and exits.
func (c *Client) asyncWriter() {
	defer close(c.asyncDone)
	var out []byte
	for {
		stopping := false
		select {
		case <-c.asyncSig:
		case <-c.asyncStop:
			stopping = true
		case <-c.done:
			return
		}
		c.asyncMu.Lock()
		out, c.asyncOut = c.asyncOut, out[:0]
		streaming := c.replStreaming
		c.asyncMu.Unlock()
		if len(out) > 0 {
			n, err := c.conn.Write(out)
			c.srv.Stats.NetOutput.Add(int64(n))
			c.srv.Stats.IOWrites.Add(1)
			c.asyncBytes.Add(-int64(len(out)))
			if err != nil {
				c.Kill()
				return
			}
			if cap(out) > 1<<20 {
				out = nil
			}
		}
		if stopping {
			return
		}
		if streaming {
			if err := c.writeStream(); err != nil {
				c.Kill()
				return
			}
		}
	}
}

// writeStream sends a replica the stream from its position to the end,
// straight from the replication buffer, several blocks per write
// (writev); the lock is taken only to find them (replbuf.go).
func (c *Client) writeStream() error {
	f := &c.srv.prop
	pos := c.replPos.Load()
	var segs [replWriteBlocks][]byte
	for {
		bufs := net.Buffers(segs[:0]) // WriteTo consumes bufs, not segs
		next := pos
		f.mu.Lock()
		for len(bufs) < replWriteBlocks {
			seg, blk := f.readStream(c.replBlk, next)
			if len(seg) == 0 {
				break
			}
			c.replBlk = blk
			bufs = append(bufs, seg)
			next += int64(len(seg))
		}
		f.mu.Unlock()
		if len(bufs) == 0 {
			return nil
		}
		n, err := bufs.WriteTo(c.conn)
		c.srv.Stats.NetOutput.Add(n)
		c.srv.Stats.IOWrites.Add(1)
		pos += n
		c.replPos.Store(pos)
		if err != nil {
			return err
		}
	}
}

// drainAsync, called by the owner goroutine as the connection ends, stops
// the feed and lets the writer send what is queued (the reply to QUIT, to
// CLIENT KILL of itself, a protocol error) before the socket is closed.
func (c *Client) drainAsync() {
	c.stopMonitor()
	c.handOff()
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	close(c.asyncStop)
	<-c.asyncDone
}

// feedMonitors sends an executed command to every MONITOR client, formatted
// as Redis does: +1700000000.123456 [0 127.0.0.1:5555] "set" "k" "v", the
// arguments quoted as sdscatrepr quotes them and secrets replaced by
// "(redacted)". Admin commands and those flagged skip-monitor are not shown.
func (s *Server) feedMonitors(c *Client, cmd *command.Command, args [][]byte) {
	if s.nmonitors.Load() == 0 || cmd.Flags&(command.SkipMonitor|command.Admin) != 0 || c.reprocessing {
		return
	}
	s.feedMonitorsAlways(c, cmd, args)
}

// feedMonitorsAlways is feedMonitors for commands flagged skip-monitor that
// feed themselves: EVAL, EVALSHA and FCALL show before the commands their
// script runs, as in Redis.
func (s *Server) feedMonitorsAlways(c *Client, cmd *command.Command, args [][]byte) {
	if s.nmonitors.Load() == 0 {
		return
	}
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	if len(s.monitors) == 0 {
		return
	}
	addr := c.monitorAddr()
	if c.inScript {
		addr = "lua"
	}
	line := monitorLine(nil, time.Now(), c.db, addr, cmd, args)
	for _, m := range s.monitors {
		m.enqueueAsync(line)
	}
}

// monitorLine formats one feed line.
func monitorLine(dst []byte, now time.Time, db int, addr string, cmd *command.Command, args [][]byte) []byte {
	dst = append(dst, '+')
	dst = strconv.AppendInt(dst, now.Unix(), 10)
	dst = append(dst, '.')
	us := now.Nanosecond() / 1000
	for d := 100000; d > 1 && us < d; d /= 10 {
		dst = append(dst, '0')
	}
	dst = strconv.AppendInt(dst, int64(us), 10)
	dst = append(dst, " ["...)
	dst = strconv.AppendInt(dst, int64(db), 10)
	dst = append(dst, ' ')
	dst = append(dst, addr...)
	dst = append(dst, ']')
	redact := redactedArgs(cmd, args)
	for i, a := range args {
		dst = append(dst, ' ')
		if redact&(1<<i) != 0 {
			dst = append(dst, `"(redacted)"`...)
		} else {
			dst = appendRepr(dst, a)
		}
	}
	return append(dst, '\r', '\n')
}

// appendRepr quotes b as Redis's sdscatrepr does: \n \r \t \a \b and the
// quote and backslash escaped, other bytes outside printable ASCII as \xhh.
func appendRepr(dst, b []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, ch := range b {
		switch ch {
		case '\\', '"':
			dst = append(dst, '\\', ch)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\a':
			dst = append(dst, '\\', 'a')
		case '\b':
			dst = append(dst, '\\', 'b')
		default:
			if ch >= ' ' && ch <= '~' {
				dst = append(dst, ch)
			} else {
				dst = append(dst, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(dst, '"')
}

// redactedArgs returns, as a bit set over argument indexes (only the first
// 64 can be redacted, which covers every case), the arguments Redis 7.2
// hides from MONITOR and SLOWLOG: passwords of AUTH, HELLO … AUTH and
// MIGRATE … AUTH/AUTH2. In Redis each command's handler redacts as it parses,
// so an argument is hidden only if parsing reached it; this follows the same
// rules.
func redactedArgs(cmd *command.Command, args [][]byte) uint64 {
	var r uint64
	set := func(i int) {
		if i < 64 {
			r |= 1 << i
		}
	}
	switch cmd.Name {
	case "auth":
		if len(args) <= 3 {
			set(1)
			if len(args) == 3 {
				set(2)
			}
		}
	case "hello":
		j := 1
		if len(args) >= 2 {
			v, ok := resp.ParseInt(args[1])
			if !ok || v < 2 || v > 3 {
				return 0
			}
			j = 2
		}
		for ; j < len(args); j++ {
			more := len(args) - 1 - j
			switch opt := string(args[j]); {
			case strings.EqualFold(opt, "auth") && more >= 2:
				set(j + 1)
				set(j + 2)
				j += 2
			case strings.EqualFold(opt, "setname") && more >= 1:
				j++
			default:
				return r
			}
		}
	case "migrate":
		for j := 6; j < len(args); j++ {
			more := len(args) - 1 - j
			switch opt := string(args[j]); {
			case strings.EqualFold(opt, "auth") && more >= 1:
				set(j + 1)
				j++
			case strings.EqualFold(opt, "auth2") && more >= 2:
				set(j + 1)
				set(j + 2)
				j += 2
			case strings.EqualFold(opt, "copy"), strings.EqualFold(opt, "replace"):
			default: // KEYS, a syntax error: parsing stops there
				return r
			}
		}
	}
	return r
}

// monitorAddr is how the feed names the client: its peer address, or
// unix:<path> for a Unix-socket client.
func (c *Client) monitorAddr() string {
	if c.isUnix() {
		return "unix:" + c.srv.Config.String("unixsocket")
	}
	return c.addr
}

// isUnix reports whether the client came in over the Unix socket.
func (c *Client) isUnix() bool { return c.addr == unixPeerID }

// unixPeerID is the address Redis shows for Unix-socket peers.
const unixPeerID = "/unixsocket:0"
