package server

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/corvid-db/corvid/internal/acl"
	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// Bits of Client.listFlags: state the owner goroutine keeps in plain fields,
// mirrored for CLIENT LIST and KILL running in other goroutines.
const (
	listNoEvict uint32 = 1 << iota
	listNoTouch
)

// Client types, as CLIENT LIST TYPE and CLIENT KILL TYPE name them.
const (
	typeNormal = "normal"
	typeSlave  = "slave"
	typePubSub = "pubsub"
	typeMaster = "master"
)

// clientTypeByName maps a TYPE argument to a client type ("" if unknown);
// "replica" is the modern name of "slave".
func clientTypeByName(name []byte) string {
	switch strings.ToLower(string(name)) {
	case "normal":
		return typeNormal
	case "slave", "replica":
		return typeSlave
	case "pubsub":
		return typePubSub
	case "master":
		return typeMaster
	}
	return ""
}

// clientType is the client's class, as Redis's getClientType: replicas,
// our primary's connection, subscribers, and the rest (monitors count as
// normal clients).
func (c *Client) clientType() string {
	switch {
	case c.isReplica.Load():
		return typeSlave
	case c.isMaster.Load():
		return typeMaster
	case c.nsub.Load()+c.npsub.Load()+c.nssub.Load() > 0:
		return typePubSub
	}
	return typeNormal
}

// setNoEvict and setNoTouch change the owner's flag and its mirror.
func (c *Client) setNoEvict(on bool) {
	c.noEvict = on
	c.setListFlag(listNoEvict, on)
	if !on {
		// Evictable again: the next check may find it what gets the
		// clients back under maxmemory-clients.
		c.srv.clientMem.stuckUntil.Store(0)
	}
}

func (c *Client) setNoTouch(on bool) {
	c.noTouch = on
	c.setListFlag(listNoTouch, on)
}

func (c *Client) setListFlag(bit uint32, on bool) {
	if on {
		c.listFlags.Or(bit)
	} else {
		c.listFlags.And(^bit)
	}
}

// peerID is the client's address as CLIENT LIST shows it and CLIENT KILL
// ADDR matches it.
func (c *Client) peerID() string { return c.addr }

// sockName is the local address the client connected to (laddr).
func (c *Client) sockName() string {
	if c.isUnix() {
		return unixPeerID
	}
	return c.laddr
}

// fd returns the socket's file descriptor, or -1 once it is closed.
func (c *Client) fd() int {
	c.fdMu.Lock()
	defer c.fdMu.Unlock()
	if c.conn == nil {
		return c.sysfd
	}
	sc, ok := c.conn.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if raw.Control(func(f uintptr) { fd = int(f) }) != nil {
		return -1
	}
	return fd
}

// clientInfo is what a CLIENT LIST line needs from a client. The owner
// fills it from its own fields; other goroutines only from the fields that
// are safe to read concurrently.
type clientInfo struct {
	db       int
	cmd      string
	qbuf     int64
	qbufCap  int64 // the read buffer's size
	qbufFree int64
	argvMem  int64
	rbs      int64
	owned    int64 // the memory the owner accounts for (clientmem.go)
	noEvict  bool
	noTouch  bool
	closing  bool // being closed: flag A
	closeAft bool // to be closed once the reply is written: flag c
}

// selfInfo describes the calling client while it runs cmd with args: the
// command counts as received and not yet consumed, as in Redis, whose
// query buffer still holds it.
func (c *Client) selfInfo(cmd *command.Command, args [][]byte) clientInfo {
	if c.inExec {
		// Inside a transaction the client is running EXEC (Redis's lastcmd).
		cmd, args = c.srv.tx.exec, execArgs
	}
	inf := clientInfo{
		db:       c.db,
		cmd:      cmd.Name,
		qbuf:     int64(c.parser.Buffered() + multibulkLen(args)),
		qbufCap:  int64(c.parser.Cap()),
		qbufFree: int64(c.parser.Free()),
		rbs:      int64(cap(c.w.Buf)),
		owned:    c.ownedMemory(),
		noEvict:  c.noEvict,
		noTouch:  c.noTouch,
		closeAft: c.closeAfter,
	}
	for _, a := range args {
		inf.argvMem += int64(len(a))
	}
	return inf
}

// otherInfo describes a client from another goroutine.
func (c *Client) otherInfo() clientInfo {
	f := c.listFlags.Load()
	c.mu.Lock()
	cmd := c.lastCmd
	c.mu.Unlock()
	return clientInfo{
		db:       int(c.dbAtomic.Load()),
		cmd:      cmd,
		qbuf:     c.qbufLen.Load(),
		qbufCap:  int64(c.parser.Cap()),
		qbufFree: c.qbufFree.Load(),
		argvMem:  c.argvMem.Load(),
		owned:    c.memOwned.Load(),
		noEvict:  f&listNoEvict != 0,
		noTouch:  f&listNoTouch != 0,
		closing:  c.killed.Load(),
	}
}

// queryBufIdle is how long, in seconds, a client must have been idle for
// Redis's clientsCron to release its query buffer.
const queryBufIdle = 2

// queryBufCron is the owner's side of Redis's query buffer resizing
// (clientsCronResizeQueryBuffer): the serve loop calls it before every
// Fill. Once per server cron tick it lets the parser release the buffer of
// an idle client or shrink one that a big command left oversized (see
// resp.Parser.Cron); every time it makes the room the next read needs, so
// that CLIENT LIST, reading the sizes from other goroutines, sees the
// buffer the client is waiting on.
func (c *Client) queryBufCron() {
	a := c.srv.admin()
	if !a.qbufWake.Load() {
		a.qbufWake.Store(true)
	}
	tick := uint64(a.cronTicks.Load())
	idle := false
	if c.parser.CronDue(tick) {
		idle = time.Now().Unix()-c.lastInteraction.Load() > queryBufIdle
	}
	c.parser.Cron(tick, idle)
	c.qbufLen.Store(int64(c.parser.Unparsed()))
	c.qbufFree.Store(int64(c.parser.Free()))
}

// queryBufWoken reports whether err, returned by Fill, is the wake-up of
// wakeIdleClients rather than a failure; the serve loop then clears the
// read deadline and goes round again, through queryBufCron.
func (c *Client) queryBufWoken(err error) bool {
	if !errors.Is(err, os.ErrDeadlineExceeded) || c.killed.Load() {
		return false
	}
	return c.conn.SetReadDeadline(time.Time{}) == nil
}

// wakeIdleClients is the cron's side of releasing idle clients' query
// buffers: a client waiting in Fill holds its buffer, so one idle for more
// than 2 seconds that wastes more than 4 KiB of it (Redis's threshold) is
// woken with a read deadline in the past, and its own goroutine then
// releases the buffer (queryBufCron). It does nothing until a serve loop
// has shown, by calling queryBufCron, that it handles the wake-up.
func (s *Server) wakeIdleClients() {
	if !s.admin().qbufWake.Load() {
		return
	}
	now := time.Now()
	past := now.Add(-time.Second)
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	for _, c := range s.clients {
		if now.Unix()-c.lastInteraction.Load() <= queryBufIdle {
			continue
		}
		if c.inLoop.Load() || c.blocked.Load() {
			continue // the loop's cron, or the parked client, looks after it
		}
		if c.qbufFree.Load() > 4<<10 {
			c.fdMu.Lock()
			if c.conn != nil {
				_ = c.conn.SetReadDeadline(past)
			}
			c.fdMu.Unlock()
		}
	}
}

// multibulkLen is the size of args encoded as a RESP request.
func multibulkLen(args [][]byte) int {
	n := 1 + len(strconv.Itoa(len(args))) + 2
	for _, a := range args {
		n += 1 + len(strconv.Itoa(len(a))) + 2 + len(a) + 2
	}
	return n
}

// appendInfo appends the client's CLIENT LIST line (without the newline),
// with Redis 7.2's fields in Redis 7.2's order.
func (c *Client) appendInfo(b []byte, inf clientInfo, now time.Time) []byte {
	c.mu.Lock()
	name, libName, libVer := c.name, c.libName, c.libVer
	c.mu.Unlock()
	// Output not yet written: a writer goroutine's queue, or an event
	// loop client's pushes (pub/sub, invalidations) and the replies its
	// socket has not taken.
	async, inbox := int64(c.asyncPending()), c.inboxBytes.Load()
	omem := async + inbox + c.outQueued.Load()
	field := func(k string) { b = append(b, ' '); b = append(b, k...); b = append(b, '=') }
	num := func(k string, v int64) { field(k); b = strconv.AppendInt(b, v, 10) }
	str := func(k, v string) { field(k); b = append(b, v...) }

	b = append(b, "id="...)
	b = strconv.AppendInt(b, c.ID, 10)
	str("addr", c.peerID())
	str("laddr", c.sockName())
	num("fd", int64(c.fd()))
	str("name", name)
	num("age", now.Unix()-c.created.Unix())
	num("idle", now.Unix()-c.lastInteraction.Load())
	field("flags")
	n := len(b)
	if c.isMonitor.Load() {
		b = append(b, 'O')
	}
	if c.isReplica.Load() {
		b = append(b, 'S')
	}
	if c.isMaster.Load() {
		b = append(b, 'M')
	}
	if c.nsub.Load()+c.npsub.Load()+c.nssub.Load() > 0 {
		b = append(b, 'P')
	}
	if c.multiCount() >= 0 {
		b = append(b, 'x')
	}
	if c.blocked.Load() {
		b = append(b, 'b')
	}
	if tf := c.trackFlags.Load(); tf&trackOn != 0 {
		b = append(b, 't')
		if tf&trackBrokenRedir != 0 {
			b = append(b, 'R')
		}
		if tf&trackBcast != 0 {
			b = append(b, 'B')
		}
	}
	if c.dirtyCAS.Load() {
		b = append(b, 'd')
	}
	if inf.closeAft {
		b = append(b, 'c')
	}
	if inf.closing {
		b = append(b, 'A')
	}
	if c.isUnix() {
		b = append(b, 'U')
	}
	if inf.noEvict {
		b = append(b, 'e')
	}
	if inf.noTouch {
		b = append(b, 'T')
	}
	if len(b) == n {
		b = append(b, 'N')
	}
	num("db", int64(inf.db))
	num("sub", int64(c.nsub.Load()))
	num("psub", int64(c.npsub.Load()))
	num("ssub", int64(c.nssub.Load()))
	num("multi", c.multiCount())
	num("qbuf", inf.qbuf)
	num("qbuf-free", inf.qbufFree)
	num("argv-mem", inf.argvMem)
	num("multi-mem", c.multiMem())
	num("rbs", inf.rbs)
	num("rbp", inf.rbs)
	num("obl", 0)
	num("oll", 0)
	num("omem", omem)
	// What client eviction counts (the pending replies are inside the
	// reply buffer's size), plus the arguments of a command being run.
	num("tot-mem", inf.owned+inf.argvMem+inbox+async)
	if omem > 0 {
		str("events", "rw")
	} else {
		str("events", "r")
	}
	if inf.cmd == "" {
		inf.cmd = "NULL"
	}
	str("cmd", inf.cmd)
	str("user", c.aclAccount.Load().Name())
	num("redir", -1)
	num("resp", int64(c.Proto()))
	str("lib-name", libName)
	str("lib-ver", libVer)
	return b
}

// sortedClients returns the connected clients, oldest first (the order of
// Redis's client list), leaving out those already being closed.
func (s *Server) sortedClients() []*Client {
	s.clientsMu.Lock()
	out := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		if !c.killed.Load() {
			out = append(out, c)
		}
	}
	s.clientsMu.Unlock()
	slices.SortFunc(out, func(a, b *Client) int { return int(a.ID - b.ID) })
	return out
}

// clientByID finds a connected client.
func (s *Server) clientByID(id int64) *Client {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	if c := s.clients[id]; c != nil && !c.killed.Load() && !c.leaving.Load() {
		return c
	}
	return nil
}

// appendLine appends cl's line as seen by the client self, which is running
// cmd with args.
func appendLine(b []byte, self, cl *Client, cmd *command.Command, args [][]byte, now time.Time) []byte {
	var inf clientInfo
	if cl == self {
		inf = self.selfInfo(cmd, args)
	} else {
		inf = cl.otherInfo()
	}
	b = cl.appendInfo(b, inf, now)
	return append(b, '\n')
}

// clientListCommand is CLIENT LIST [TYPE type | ID id [id …]].
func clientListCommand(c *command.Ctx) {
	self := client(c)
	s := self.srv
	// What other connections sent before it is read and run first, as a
	// single-threaded server would: their buffers, names and commands.
	// Two passes: a large write reaches the socket in parts, the rest once
	// the first part was read.
	s.settleBefore(c)
	s.settleBefore(c)
	args := c.Args
	now := time.Now()
	var out []byte
	switch {
	case len(args) == 4 && strings.EqualFold(string(args[2]), "type"):
		typ := clientTypeByName(args[3])
		if typ == "" {
			c.Error("ERR Unknown client type '" + string(args[3]) + "'")
			return
		}
		for _, cl := range s.sortedClients() {
			if cl.clientType() == typ {
				out = appendLine(out, self, cl, c.Cmd, args, now)
			}
		}
	case len(args) > 3 && strings.EqualFold(string(args[2]), "id"):
		ids := make([]int64, 0, len(args)-3)
		for _, a := range args[3:] {
			id, ok := resp.ParseInt(a)
			if !ok {
				c.Error("ERR Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
		for _, id := range ids {
			if cl := s.clientByID(id); cl != nil {
				out = appendLine(out, self, cl, c.Cmd, args, now)
			}
		}
	case len(args) != 2:
		c.Error(command.ErrSyntax)
		return
	default:
		for _, cl := range s.sortedClients() {
			out = appendLine(out, self, cl, c.Cmd, args, now)
		}
	}
	c.W.Verbatim("txt", out)
}

// clientInfoCommand is CLIENT INFO: the caller's own line.
func clientInfoCommand(c *command.Ctx) {
	self := client(c)
	out := appendLine(nil, self, self, c.Cmd, c.Args, time.Now())
	c.W.Verbatim("txt", out)
}

// clientKillCommand is CLIENT KILL addr (old form: reply OK or an error,
// and the caller may kill itself) and CLIENT KILL <filter> <value> … (new
// form: reply the number killed, the caller spared unless SKIPME no).
func clientKillCommand(c *command.Ctx) {
	self := client(c)
	s := self.srv
	args := c.Args
	var (
		addr, laddr  string
		haveAddr     bool
		haveLaddr    bool
		user         *acl.Account
		typ          string
		id           int64
		maxAge       int64
		skipMe       = true
		oldForm      = len(args) == 3
		closeThisOne bool
	)
	if oldForm {
		addr, haveAddr = string(args[2]), true
		skipMe = false
	} else {
		for i := 2; i < len(args); i += 2 {
			more := i+1 < len(args)
			opt := strings.ToLower(string(args[i]))
			if !more {
				c.Error(command.ErrSyntax)
				return
			}
			val := args[i+1]
			switch opt {
			case "id":
				n, ok := resp.ParseInt(val)
				if !ok || n < 1 {
					c.Error("ERR client-id should be greater than 0")
					return
				}
				id = n
			case "maxage":
				n, ok := resp.ParseInt(val)
				if !ok {
					c.Error("ERR maxage is not an integer or out of range")
					return
				}
				if n <= 0 {
					c.Error("ERR maxage should be greater than 0")
					return
				}
				maxAge = n
			case "type":
				typ = clientTypeByName(val)
				if typ == "" {
					c.Error("ERR Unknown client type '" + string(val) + "'")
					return
				}
			case "addr":
				addr, haveAddr = string(val), true
			case "laddr":
				laddr, haveLaddr = string(val), true
			case "user":
				if user = s.acl.Lookup(string(val)); user == nil {
					c.Error("ERR No such user '" + string(val) + "'")
					return
				}
			case "skipme":
				switch strings.ToLower(string(val)) {
				case "yes":
					skipMe = true
				case "no":
					skipMe = false
				default:
					c.Error(command.ErrSyntax)
					return
				}
			default:
				c.Error(command.ErrSyntax)
				return
			}
		}
	}
	nowSec := time.Now().Unix()
	killed := 0
	for _, cl := range s.sortedClients() {
		if haveAddr && cl.peerID() != addr {
			continue
		}
		if haveLaddr && cl.sockName() != laddr {
			continue
		}
		if typ != "" && cl.clientType() != typ {
			continue
		}
		if id != 0 && cl.ID != id {
			continue
		}
		if user != nil && cl.aclAccount.Load() != user {
			continue
		}
		if cl == self && skipMe {
			continue
		}
		if maxAge != 0 && nowSec-cl.created.Unix() < maxAge {
			continue
		}
		if cl == self {
			closeThisOne = true
		} else {
			cl.Kill()
		}
		killed++
	}
	if oldForm {
		if killed == 0 {
			c.Error("ERR No such client")
		} else {
			c.OK()
		}
	} else {
		c.W.Int(int64(killed))
	}
	if closeThisOne {
		self.closeAfterReply()
	}
}
