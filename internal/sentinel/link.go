package sentinel

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"time"

	"github.com/corvid-db/corvid/internal/resp"
)

// link is a sentinel's connections to one instance: cc for commands and,
// for primaries and replicas, pc subscribed to the hello channel, with the
// times failure detection reads (Redis's instanceLink; Redis shares one
// link between the entries of a sentinel watching several primaries, which
// saves connections and nothing else: here each entry has its own).
type link struct {
	disconnected bool
	pending      int // commands sent on cc awaiting their reply
	cc, pc       *conn

	ccConnTime, pcConnTime int64
	pcLastActivity         int64
	lastAvail              int64 // last valid reply to PING
	actPing                int64 // when the oldest unanswered PING was sent (0: none)
	lastPing               int64 // when the last PING was sent
	lastPong               int64 // last reply to PING, valid or not
	lastReconn             int64
}

func newLink(now int64) *link {
	return &link{disconnected: true, actPing: now, lastAvail: now, lastPong: now}
}

// closeConn drops one of the link's connections; the timer reconnects.
func (l *link) closeConn(c *conn) {
	if c == nil {
		return
	}
	if l.cc == c {
		l.cc = nil
		l.pending = 0
	}
	if l.pc == c {
		l.pc = nil
	}
	l.disconnected = true
	c.close()
}

func (l *link) closeAll() {
	l.closeConn(l.cc)
	l.closeConn(l.pc)
}

// conn is one asynchronous connection: commands are queued and written by
// a goroutine (which first dials), replies are read by another and handed
// to the callbacks in order, each under the sentinel's mutex. Like
// hiredis's async context, it is usable at once: commands queue while it
// connects, and a failure to connect is reported as a disconnection.
type conn struct {
	s      *Sentinel
	l      *link
	pubsub bool
	onPush func(*resp.Reply) // pc: every message

	// preSub counts the replies a pub/sub connection awaits to the
	// commands sent before its SUBSCRIBE (AUTH, CLIENT SETNAME). After
	// them an error reply (SUBSCRIBE refused: NOAUTH, NOPERM) drops the
	// connection, as hiredis does with an error no callback awaits: the
	// instance then shows disconnected until it accepts the sentinel.
	preSub      int
	subscribing bool // SUBSCRIBE was sent (commands after it are not counted)

	// Guarded by s.mu.
	callbacks []func(*resp.Reply)
	closed    bool
	local     string // local IP once connected (for hello messages)

	out  chan []byte
	done chan struct{}
}

func (s *Sentinel) dial(l *link, a address, pubsub bool) *conn {
	c := &conn{s: s, l: l, pubsub: pubsub, out: make(chan []byte, 256), done: make(chan struct{})}
	go c.run(net.JoinHostPort(a.ip, strconv.Itoa(a.port)), s.tlsConfig(a))
	return c
}

func (s *Sentinel) tlsConfig(a address) *tls.Config {
	if s.host == nil || !s.cfg.Bool("tls-replication") {
		return nil
	}
	t := s.host.OutgoingTLS()
	if t == nil {
		return nil
	}
	t = t.Clone()
	if t.ServerName == "" {
		t.ServerName = a.hostname
	}
	return t
}

func (c *conn) run(addr string, tlsConf *tls.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	go func() {
		select {
		case <-c.done:
		case <-ctx.Done():
		}
		cancel()
	}()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err == nil && tlsConf != nil {
		tc := tls.Client(nc, tlsConf)
		if err = tc.HandshakeContext(ctx); err != nil {
			nc.Close()
		} else {
			nc = tc
		}
	}
	cancel()
	if err != nil {
		c.failed()
		return
	}
	c.s.mu.Lock()
	if c.closed {
		c.s.mu.Unlock()
		nc.Close()
		return
	}
	if la, ok := nc.LocalAddr().(*net.TCPAddr); ok {
		c.local = la.IP.String()
	}
	c.s.mu.Unlock()
	go func() {
		<-c.done
		nc.Close()
	}()
	go c.read(nc)
	w := bufio.NewWriter(nc)
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			w.Write(b)
			for more := true; more; {
				select {
				case b := <-c.out:
					w.Write(b)
				default:
					more = false
				}
			}
			nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if err := w.Flush(); err != nil {
				c.failed()
				return
			}
		}
	}
}

func (c *conn) read(nc net.Conn) {
	r := bufio.NewReaderSize(nc, 16<<10)
	for {
		rep, err := resp.ReadReply(r)
		if err != nil {
			c.failed()
			return
		}
		c.s.mu.Lock()
		if c.closed {
			c.s.mu.Unlock()
			return
		}
		if c.pubsub {
			switch {
			case c.preSub > 0:
				c.preSub--
			case rep.Kind == '-':
				c.l.closeConn(c)
			case c.onPush != nil:
				c.onPush(&rep)
			}
		} else if len(c.callbacks) > 0 {
			cb := c.callbacks[0]
			c.callbacks[0] = nil
			c.callbacks = c.callbacks[1:]
			if cb != nil {
				cb(&rep)
			}
		}
		c.s.mu.Unlock()
	}
}

// failed reports a broken (or never made) connection to its link, as
// hiredis's disconnect callback does.
func (c *conn) failed() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.closed {
		return
	}
	if c.l.cc == c {
		c.l.cc = nil
		c.l.pending = 0
	}
	if c.l.pc == c {
		c.l.pc = nil
	}
	c.l.disconnected = true
	c.close()
}

// close ends the connection; pending callbacks are dropped. Caller holds
// s.mu.
func (c *conn) close() {
	if c.closed {
		return
	}
	c.closed = true
	c.callbacks = nil
	close(c.done)
}

// send queues a command; cb (may be nil) gets its reply. It reports false
// when the connection is closed or its queue is full (the connection is
// then dropped: the instance stopped reading). Caller holds s.mu.
func (c *conn) send(cb func(*resp.Reply), args ...string) bool {
	if c == nil || c.closed {
		return false
	}
	b := resp.AppendArrayHeader(make([]byte, 0, 64), len(args))
	for _, a := range args {
		b = resp.AppendBulk(b, []byte(a))
	}
	select {
	case c.out <- b:
	default:
		c.l.closeConn(c)
		return false
	}
	if !c.pubsub {
		c.callbacks = append(c.callbacks, cb)
	} else if !c.subscribing {
		c.preSub++
	}
	return true
}
