package commands

import (
	"bufio"
	"errors"
	"math"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/keyspace"
	"github.com/corvid-db/corvid/internal/resp"
)

// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
// [AUTH password] [AUTH2 username password] [KEYS key ...]
//
// MIGRATE is DUMP here and RESTORE there, over an ordinary client
// connection to the target: AUTH when asked, SELECT when the connection's
// database differs, then one RESTORE per key, pipelined, and one reply
// read per command sent. Each key the target acknowledged is deleted here
// (unless COPY), with the keyspace event, WATCH and tracking effects of a
// deletion, and the command reaches replicas and the AOF as DEL of those
// keys only, as in Redis.
//
// The handler runs with the keys' shard locks held, for the whole network
// exchange: Redis blocks its entire server during MIGRATE, so holding a few
// shards is no worse, and it is what makes "dump, restore, delete" atomic
// for the keys concerned. The command leaves its event loop first
// (command.OwnGoroutine) so that clients sharing the loop are not held up.
//
// Failures follow Redis's observable behaviour, including its quirks:
// Redis's blocking connect only fails when the address cannot be resolved
// or the connect call fails at once; a refused or timed-out connection
// surfaces at the first write, so the reply is then the "writing" IOERR.
// After a socket error, if no RESTORE was acknowledged and the error was
// not a timeout, the exchange is retried once on a new connection (a
// cached connection the target has closed meanwhile fails that way).

// Errors only MIGRATE replies with.
const (
	errMigrateKeysArg = "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
	errMigrateConnect = "IOERR error or timeout connecting to the client"
	errMigrateWrite   = "IOERR error or timeout writing to target instance"
	errMigrateRead    = "IOERR error or timeout reading to target instance"
	// The target's error follows, without its leading '-'.
	errMigrateTarget = "ERR Target instance replied with error: "
)

const (
	migrateDefaultTimeout = 1000     // ms, when the timeout argument is 0 or negative
	migrateWriteChunk     = 64 << 10 // each write gets the whole timeout, as Redis's 64 KB writes
	// migrateLineMax is the longest reply line Redis reads (its 1 KB
	// buffers, less the terminator); the rest of a longer line is what
	// the next read returns.
	migrateLineMax = 1023
)

var argRESTORE, argREPLACE, argSELECT, argAUTH = []byte("RESTORE"), []byte("REPLACE"), []byte("SELECT"), []byte("AUTH")

// migrateKeys returns MIGRATE's key positions the way Redis finds them:
// from the key specs (the key at argument 3) unless the KEYS spec's
// keyword search (backwards from the next-to-last argument) meets KEYS;
// that spec being incomplete, Redis then asks migrateGetKeys, which reads
// the options as the handler does (skipping AUTH's and AUTH2's operands)
// and takes every argument after KEYS, or nothing when the key argument
// is not empty (a mistake the handler refuses before touching any key).
// The handler never uses a key outside this set, so the dispatcher's
// shard locks cover it.
func migrateKeys(args [][]byte) []int {
	if len(args) < 4 {
		return nil
	}
	found := false
	for i := len(args) - 2; i >= 1; i-- {
		if equalFold(args[i], "keys") {
			found = true
			break
		}
	}
	if !found {
		return []int{3}
	}
	for i := 6; i < len(args); i++ {
		switch a := args[i]; {
		case equalFold(a, "keys"):
			if len(args[3]) > 0 {
				return nil
			}
			out := make([]int, 0, len(args)-i-1)
			for j := i + 1; j < len(args); j++ {
				out = append(out, j)
			}
			return out
		case equalFold(a, "auth"):
			i++
		case equalFold(a, "auth2"):
			i += 2
		}
	}
	return []int{3}
}

// migrateOpts are MIGRATE's parsed arguments.
type migrateOpts struct {
	copy, replace bool
	auth, auth2   bool // AUTH or AUTH2 given; auth2: the last one set a user
	user, pass    []byte
	first, n      int // the keys are args[first : first+n]
	db            int64
	timeout       time.Duration
}

// parseMigrate parses MIGRATE's arguments in Redis's order (options,
// then timeout, then database), replying with the error on failure.
func parseMigrate(c *command.Ctx) (o migrateOpts, ok bool) {
	args := c.Args
	o.first, o.n = 3, 1
opts:
	for j := 6; j < len(args); j++ {
		more := len(args) - 1 - j
		switch a := args[j]; {
		case equalFold(a, "copy"):
			o.copy = true
		case equalFold(a, "replace"):
			o.replace = true
		case equalFold(a, "auth"):
			if more < 1 {
				c.Error(command.ErrSyntax)
				return o, false
			}
			// As Redis, a username an earlier AUTH2 gave is kept.
			o.auth, o.pass = true, args[j+1]
			j++
		case equalFold(a, "auth2"):
			if more < 2 {
				c.Error(command.ErrSyntax)
				return o, false
			}
			o.auth, o.auth2, o.user, o.pass = true, true, args[j+1], args[j+2]
			j += 2
		case equalFold(a, "keys"):
			if len(args[3]) != 0 {
				c.Error(errMigrateKeysArg)
				return o, false
			}
			o.first, o.n = j+1, len(args)-j-1
			break opts
		default:
			c.Error(command.ErrSyntax)
			return o, false
		}
	}
	ms, ok := resp.ParseInt(args[5])
	if !ok {
		c.Error(command.ErrNotInteger)
		return o, false
	}
	if o.db, ok = resp.ParseInt(args[4]); !ok {
		c.Error(command.ErrNotInteger)
		return o, false
	}
	if ms <= 0 {
		ms = migrateDefaultTimeout
	}
	o.timeout = time.Duration(min(ms, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond
	return o, true
}

func migrateCommand(c *command.Ctx) {
	o, ok := parseMigrate(c)
	if !ok {
		return
	}
	args := c.Args
	// The keys there are now; none is an answer, not an error (they
	// often have just expired).
	var found []int
	for i := o.first; i < o.first+o.n; i++ {
		if _, ok := c.DB.LookupRead(args[i]); ok {
			found = append(found, i)
		}
	}
	if len(found) == 0 {
		c.W.SimpleString("NOKEY")
		return
	}
	socks := migrateSocketsOf(c.DB.Store())
	name := string(args[1]) + ":" + string(args[2])
	var (
		restores []byte // the RESTORE commands, built once connected
		sent     []int  // the argument indexes of the keys they carry
		mc       *migrateConn
		rep      migrateReplies
		writing  bool
		err      error
	)
	for attempt := 0; ; attempt++ {
		if mc, err = socks.get(name, args[1], args[2], o.timeout); errors.Is(err, errMigrateNoConnect) {
			c.Error(errMigrateConnect)
			return
		}
		if restores == nil {
			restores, sent = migrateRestores(c, found, o.replace)
		}
		rep, writing, err = mc.exchange(err, o, restores, len(sent))
		if err == nil || len(rep.restores) > 0 || attempt > 0 || isTimeout(err) {
			break
		}
		// Nothing was acknowledged and it was no timeout: once more, on
		// a new connection.
		socks.discard(mc)
	}
	var deleted [][]byte
	gone := make([]bool, o.n) // by key, from o.first
	for j, line := range rep.restores {
		if rep.prefixErr != "" || line[0] == '-' || o.copy {
			continue
		}
		key := args[sent[j]]
		c.DB.Delete(key)
		c.Notify(command.NotifyGeneric, "del", key)
		c.Dirty++
		gone[sent[j]-o.first] = true
		if c.Propagating {
			deleted = append(deleted, key)
		}
	}
	if len(deleted) > 0 {
		// Replicas and the AOF get a DEL of what went, nothing else.
		c.PropagateAs(append([][]byte{argDEL}, deleted...)...)
	}
	for i, g := range gone {
		if !g {
			// Left in place: WATCH and tracking see only the deleted
			// keys as modified, as Redis signals only those.
			c.KeyUnmodified(o.first + i)
		}
	}
	targetErr := rep.firstError()
	switch {
	case err != nil:
		socks.discard(mc)
	case targetErr != "":
		mc.db = -1 // the SELECT may have failed: send it next time
		socks.put(mc)
	default:
		mc.db = o.db
		socks.put(mc)
	}
	switch {
	case targetErr != "":
		c.Error(errMigrateTarget + targetErr)
	case err != nil && writing:
		c.Error(errMigrateWrite)
	case err != nil:
		c.Error(errMigrateRead)
	default:
		c.OK()
	}
}

// migrateRestores serialises the keys at argument indexes found as RESTORE
// commands: key, remaining time to live in ms (0 for none, at least 1
// otherwise), DUMP payload, and REPLACE if asked. A key whose time to live
// has passed, or with nothing left to serialise, is left out; sent lists
// the keys that went in, in order.
func migrateRestores(c *command.Ctx, found []int, replace bool) (out []byte, sent []int) {
	now := c.DB.Now()
	lim := dumpLimitsOf(c)
	out = []byte{}
	for _, i := range found {
		key := c.Args[i]
		e, ok := c.DB.Find(key)
		if !ok {
			continue
		}
		ttl := int64(0)
		if at := e.ExpireAt(); at != 0 {
			if ttl = at - now; ttl < 0 {
				continue
			}
			ttl = max(ttl, 1)
		}
		p, ok := dumpPayload(c.Scratch, e, now, lim)
		if cap(p) <= 64<<10 {
			c.Scratch = p[:0]
		}
		if !ok {
			continue
		}
		n := 4
		if replace {
			n = 5
		}
		out = resp.AppendArrayHeader(out, n)
		out = resp.AppendBulk(out, argRESTORE)
		out = resp.AppendBulk(out, key)
		out = resp.AppendBulk(out, strconv.AppendInt(nil, ttl, 10))
		out = resp.AppendBulk(out, p)
		if replace {
			out = resp.AppendBulk(out, argREPLACE)
		}
		sent = append(sent, i)
	}
	return out, sent
}

// migratePrelude is what goes before the RESTOREs: AUTH when asked (on
// every MIGRATE, as Redis), SELECT when sel.
func migratePrelude(o migrateOpts, sel bool) []byte {
	var out []byte
	if o.auth {
		if o.auth2 {
			out = resp.AppendArrayHeader(out, 3)
			out = resp.AppendBulk(out, argAUTH)
			out = resp.AppendBulk(out, o.user)
		} else {
			out = resp.AppendArrayHeader(out, 2)
			out = resp.AppendBulk(out, argAUTH)
		}
		out = resp.AppendBulk(out, o.pass)
	}
	if sel {
		out = resp.AppendArrayHeader(out, 2)
		out = resp.AppendBulk(out, argSELECT)
		out = resp.AppendBulk(out, strconv.AppendInt(nil, o.db, 10))
	}
	return out
}

// migrateReplies are the reply lines of one exchange.
type migrateReplies struct {
	// prefixErr is AUTH's error reply, else SELECT's (without '-').
	prefixErr string
	// restores are the RESTORE replies read, in order.
	restores [][]byte
}

// firstError is the error Redis reports: AUTH's or SELECT's, else the
// first RESTORE's; as in Redis, only once a RESTORE reply was read (a
// socket error before that is reported as such).
func (r *migrateReplies) firstError() string {
	for _, l := range r.restores {
		if r.prefixErr != "" {
			return r.prefixErr
		}
		if l[0] == '-' {
			return string(l[1:])
		}
	}
	return ""
}

// isTimeout reports a socket error that is a timeout (Redis's ETIMEDOUT,
// after which it does not retry).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// errMigrateEmptyLine is a reply line with nothing before its "\n", which
// Redis's line reader reports as a failed read.
var errMigrateEmptyLine = errors.New("empty reply line")

// errMigrateNoConnect marks a connection that failed at once (the host
// did not resolve, the port is not one), Redis's "connecting" IOERR.
var errMigrateNoConnect = errors.New("cannot connect")

// migrateConn is a connection to a MIGRATE target.
type migrateConn struct {
	name    string // host:port as the arguments spell them, the cache key
	conn    net.Conn
	r       *bufio.Reader
	db      int64     // the database selected on the target; -1 unknown
	lastUse time.Time // when it was last put back in the cache
}

// write sends prelude and body (in one write when they are small), each
// write of at most migrateWriteChunk bytes given the whole timeout.
func (mc *migrateConn) write(prelude, body []byte, timeout time.Duration) error {
	bufs := [][]byte{prelude, body}
	if len(prelude)+len(body) <= migrateWriteChunk {
		bufs = [][]byte{append(prelude, body...)}
	}
	for _, b := range bufs {
		for len(b) > 0 {
			n := min(len(b), migrateWriteChunk)
			_ = mc.conn.SetWriteDeadline(time.Now().Add(timeout))
			if _, err := mc.conn.Write(b[:n]); err != nil {
				return err
			}
			b = b[n:]
		}
	}
	return nil
}

// readLine reads a reply line as Redis's syncReadLine: up to
// migrateLineMax bytes, the "\r\n" removed, within timeout.
func (mc *migrateConn) readLine(timeout time.Duration) ([]byte, error) {
	_ = mc.conn.SetReadDeadline(time.Now().Add(timeout))
	var line []byte
	for len(line) < migrateLineMax {
		b, err := mc.r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == '\n' {
			if len(line) == 0 {
				return nil, errMigrateEmptyLine
			}
			if line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
				if len(line) == 0 {
					line = []byte{0} // Redis reads "\r\n" as an empty line, not an error
				}
			}
			return line, nil
		}
		line = append(line, b)
	}
	return line, nil
}

// exchange sends AUTH (when asked), SELECT (when the connection's
// database is not o.db) and the n RESTOREs in restores, and reads the
// replies. dialErr is the error of a connection that failed, which Redis
// meets at its first write (mc is then nil). writing tells whether the
// error came before anything was read.
func (mc *migrateConn) exchange(dialErr error, o migrateOpts, restores []byte, n int) (r migrateReplies, writing bool, err error) {
	if dialErr != nil {
		return r, true, dialErr
	}
	sel := mc.db != o.db
	if err = mc.write(migratePrelude(o, sel), restores, o.timeout); err != nil {
		return r, true, err
	}
	r, err = mc.readReplies(o.auth, sel, n, o.timeout)
	return r, false, err
}

// readReplies reads AUTH's reply (if auth), SELECT's (if sel), then up to
// n RESTORE replies, stopping at the first socket error.
func (mc *migrateConn) readReplies(auth, sel bool, n int, timeout time.Duration) (r migrateReplies, err error) {
	for _, asked := range []bool{auth, sel} {
		if !asked {
			continue
		}
		l, err := mc.readLine(timeout)
		if err != nil {
			return r, err
		}
		if l[0] == '-' && r.prefixErr == "" {
			r.prefixErr = string(l[1:])
		}
	}
	for range n {
		l, err := mc.readLine(timeout)
		if err != nil {
			return r, err
		}
		r.restores = append(r.restores, l)
	}
	return r, nil
}

// migrateDial connects to host:port as Redis's blocking connect would
// see it. The port is read as C's atoi reads it; an empty host, a
// negative port or a name that does not resolve fail at once
// (errMigrateNoConnect); a refused or timed-out connection is returned as
// it is, Redis meeting it at the first write.
func migrateDial(host, port []byte, timeout time.Duration) (net.Conn, error) {
	p := cAtoi(port)
	if len(host) == 0 || p < 0 {
		return nil, errMigrateNoConnect
	}
	// getaddrinfo keeps the low 16 bits of a larger numeric service.
	addr := net.JoinHostPort(string(host), strconv.Itoa(int(uint16(p))))
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err == nil {
		return conn, nil
	}
	var dnsErr *net.DNSError
	var addrErr *net.AddrError
	if errors.As(err, &dnsErr) || errors.As(err, &addrErr) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT) {
		return nil, errMigrateNoConnect
	}
	return nil, err
}

// cAtoi reads b as C's atoi does (glibc: strtol, then truncated to int):
// leading blanks, a sign, digits, anything after ignored; 0 when there
// are no digits.
func cAtoi(b []byte) int32 {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	const over = math.MaxInt64 + 1 // any value past int64's range
	var n uint64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if n > over/10 {
			n = over
		} else {
			n = min(n*10+uint64(b[i]-'0'), over)
		}
	}
	var v int64 // strtol saturates
	switch {
	case !neg && n >= over:
		v = math.MaxInt64
	case neg && n >= over:
		v = math.MinInt64
	case neg:
		v = -int64(n)
	default:
		v = int64(n)
	}
	return int32(v)
}

// migrateSockets is one server's cache of connections to MIGRATE targets,
// Redis's migrate_cached_sockets: keyed by "host:port" as given, at most
// migrateMaxSockets of them (a random one is closed to make room), each
// closed once unused for migrateIdle, from a timer that runs only while
// the cache holds something. MIGRATE is its only user, so nothing of it
// sits on any other command's path.
//
// A connection is taken out of the cache for the length of an exchange
// and put back afterwards: MIGRATEs on keys of different shards run at
// the same time here, unlike in Redis, and two of them must not
// interleave on one connection. One that finds its target's connection
// taken opens another; when both are put back the later one stays.
// Waiting for the connection instead was rejected: it would hold the
// waiter's shard locks for the length of someone else's exchange.
//
// mu is a leaf lock: it is taken with shard locks held (MIGRATE's) or
// none (the timer), and nothing is locked under it.
//
// The caches are found by the server's keyspace (keyspace.Store), the one
// piece of per-server state every handler holds, so that servers sharing
// a process (tests, embedding) keep separate caches, as separate Redis
// processes do. A cache that empties unregisters itself, so a stopped
// server's keyspace is not kept alive by it; a stopped server's
// connections close within migrateIdle, or at once through
// CloseMigrateSockets.
type migrateSockets struct {
	idle time.Duration
	max  int
	now  func() time.Time

	mu      sync.Mutex
	conns   map[string]*migrateConn // the idle connections
	timer   *time.Timer             // armed while conns is not empty
	dead    bool                    // unregistered: put closes what it is given
	onEmpty func()                  // unregisters the cache
}

const (
	migrateMaxSockets = 64
	migrateIdle       = 10 * time.Second
)

var migrateRegistry sync.Map // *keyspace.Store -> *migrateSockets

func migrateSocketsOf(st *keyspace.Store) *migrateSockets {
	if s, ok := migrateRegistry.Load(st); ok {
		return s.(*migrateSockets)
	}
	s := newMigrateSockets(migrateIdle, migrateMaxSockets, time.Now)
	s.onEmpty = func() { migrateRegistry.CompareAndDelete(st, s) }
	actual, _ := migrateRegistry.LoadOrStore(st, s)
	return actual.(*migrateSockets)
}

// MigrateCachedSockets returns how many connections to MIGRATE targets
// the server of st keeps open (INFO's migrate_cached_sockets).
func MigrateCachedSockets(st *keyspace.Store) int {
	s, ok := migrateRegistry.Load(st)
	if !ok {
		return 0
	}
	return s.(*migrateSockets).len()
}

// CloseMigrateSockets closes the server's cached MIGRATE connections, for
// a server that stops.
func CloseMigrateSockets(st *keyspace.Store) {
	if s, ok := migrateRegistry.LoadAndDelete(st); ok {
		s.(*migrateSockets).close()
	}
}

func newMigrateSockets(idle time.Duration, max int, now func() time.Time) *migrateSockets {
	return &migrateSockets{idle: idle, max: max, now: now, conns: map[string]*migrateConn{}}
}

func (s *migrateSockets) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// get takes name's cached connection out of the cache, or connects.
func (s *migrateSockets) get(name string, host, port []byte, timeout time.Duration) (*migrateConn, error) {
	s.mu.Lock()
	mc := s.conns[name]
	delete(s.conns, name)
	s.mu.Unlock()
	if mc != nil {
		return mc, nil
	}
	conn, err := migrateDial(host, port, timeout)
	if err != nil {
		return nil, err
	}
	return &migrateConn{name: name, conn: conn, r: bufio.NewReader(conn), db: -1}, nil
}

// put returns a connection that worked to the cache.
func (s *migrateSockets) put(mc *migrateConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		_ = mc.conn.Close()
		return
	}
	if old := s.conns[mc.name]; old != nil {
		_ = old.conn.Close()
		delete(s.conns, mc.name)
	}
	if len(s.conns) >= s.max {
		for name, victim := range s.conns { // map order: a random one
			_ = victim.conn.Close()
			delete(s.conns, name)
			break
		}
	}
	mc.lastUse = s.now()
	s.conns[mc.name] = mc
	if s.timer == nil {
		s.timer = time.AfterFunc(s.idle, s.sweep)
	}
}

// discard closes a connection that failed (nil: none was made).
func (s *migrateSockets) discard(mc *migrateConn) {
	if mc != nil {
		_ = mc.conn.Close()
	}
}

// sweep closes the connections idle for s.idle or longer and re-arms the
// timer for the next one to expire; an empty cache unregisters itself.
func (s *migrateSockets) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer = nil
	if s.dead {
		return
	}
	now := s.now()
	next := time.Duration(-1)
	for name, mc := range s.conns {
		left := s.idle - now.Sub(mc.lastUse)
		if left <= 0 {
			_ = mc.conn.Close()
			delete(s.conns, name)
			continue
		}
		if next < 0 || left < next {
			next = left
		}
	}
	if next >= 0 {
		s.timer = time.AfterFunc(next, s.sweep)
		return
	}
	if s.onEmpty != nil {
		s.dead = true
		s.onEmpty()
	}
}

// close closes every cached connection; connections in use close when
// put back.
func (s *migrateSockets) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dead = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	for name, mc := range s.conns {
		_ = mc.conn.Close()
		delete(s.conns, name)
	}
}
