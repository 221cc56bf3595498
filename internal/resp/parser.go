package resp

import (
	"errors"
	"io"
	"math"
	"sync/atomic"
)

// Limits and defaults of the Parser.
const (
	// DefaultMaxBulkLen is Redis's default proto-max-bulk-len (512 MB).
	DefaultMaxBulkLen = 512 << 20
	// DefaultMaxQueryBuf is Redis's default client-query-buffer-limit (1 GB).
	DefaultMaxQueryBuf = 1 << 30
	// DefaultMaxMultibulkLen is the largest argument count Redis 7.2 accepts
	// after '*' (INT_MAX).
	DefaultMaxMultibulkLen = math.MaxInt32
	// MaxInlineSize is Redis's PROTO_INLINE_MAX_SIZE: the most bytes that may
	// be buffered while looking for the end of an inline command or of a
	// '*' or '$' header line.
	MaxInlineSize = 64 << 10
	// UnauthMaxMultibulkLen and UnauthMaxBulkLen are the stricter limits
	// Redis applies to clients that still have to authenticate.
	UnauthMaxMultibulkLen = 10
	UnauthMaxBulkLen      = 16384
)

// Buffer management.
const (
	// initialBufSize is the first buffer's size (Redis's PROTO_IOBUF_LEN).
	initialBufSize = 16 << 10
	// minRead is the free space Fill wants before reading; with less it
	// compacts or grows the buffer.
	minRead = 4 << 10
	// maxPrealloc caps the room made in advance for a declared bulk length
	// beyond what has arrived: a client cannot make us allocate more than
	// this by announcing a big argument and sending nothing.
	maxPrealloc = 1 << 20
	// maxRetain is the largest buffer Reset keeps for the next connection.
	maxRetain = 64 << 10
	// bigArg is Redis's PROTO_MBULK_BIG_ARG: an argument announced at
	// least this long gets room made for all of it (up to maxPrealloc)
	// before the next read, instead of the buffer growing read by read.
	bigArg = 32 << 10
	// resizeThreshold is Redis's PROTO_RESIZE_THRESHOLD: Shrink leaves
	// buffers up to this size alone.
	resizeThreshold = 32 << 10
	// wakeRead is the size of the small read a released Parser waits on,
	// so that an idle connection holds no read buffer.
	wakeRead = 64
	// maxRetainArgs is the largest argument table kept from one command
	// to the next.
	maxRetainArgs = 1024
)

// errBadRead is returned by Fill for a Reader that reports an impossible
// count.
var errBadRead = errors.New("resp: reader returned invalid count")

// span is an argument of the command being parsed: offset from the start of
// the command in the buffer, and length. Offsets relative to the command
// survive the buffer being compacted or grown.
type span struct{ off, n int }

// Parser splits the byte stream of one client connection into commands. It
// owns the connection's read buffer: Fill reads into it and Next returns
// the next complete command as sub-slices of it. See the package
// documentation for the design. A Parser is not safe for concurrent use.
//
// The zero value is ready to use, with the default limits. The exported
// fields may be changed between calls; a zero or negative limit means the
// default.
type Parser struct {
	// MaxBulkLen is the longest argument accepted (proto-max-bulk-len);
	// longer ones are ErrProtoInvalidBulkLen. Default DefaultMaxBulkLen.
	MaxBulkLen int64
	// MaxQueryBuf is the client-query-buffer-limit: when, after a read, the
	// bytes held for the command in progress plus those not yet parsed
	// exceed it, Fill returns ErrQueryBufferLimit. Default
	// DefaultMaxQueryBuf.
	MaxQueryBuf int64
	// MaxMultibulkLen is the largest argument count accepted after '*';
	// larger ones are ErrProtoInvalidMultibulkLen. Default
	// DefaultMaxMultibulkLen (Redis 7.2's INT_MAX).
	MaxMultibulkLen int64
	// Unauthenticated applies Redis's limits for clients that have not yet
	// authenticated: more than UnauthMaxMultibulkLen arguments is
	// ErrProtoUnauthMultibulkLen, an argument longer than UnauthMaxBulkLen
	// is ErrProtoUnauthBulkLen. (Inline commands are not limited, as in
	// Redis.)
	Unauthenticated bool

	buf   []byte // len(buf) == cap(buf); data is buf[start:end]
	start int    // first byte of the command in progress
	pos   int    // parse cursor, start <= pos <= end
	end   int    // end of the data read
	scan  int    // the search for the current line's terminator resumes here
	nul   bool   // the current line has a NUL before its terminator
	multi int    // arguments still to parse in the current multibulk; 0 if none
	bulk  int    // length of the argument being read; -1 while its header is due
	spans []span // arguments of the current multibulk parsed so far
	args  [][]byte
	err   error // sticky: a protocol error or ErrQueryBufferLimit

	peak     int          // most bytes held since the last Shrink, as Redis's querybuf_peak
	released bool         // Release dropped the buffer: the next Fill reads into wake
	cronTick uint64       // the last tick Cron acted on
	size     atomic.Int64 // len(buf), for Cap in other goroutines
	wake     [wakeRead]byte

	// Tests use tiny buffers to exercise the buffer's edges.
	testSizes             bool
	testInit, testMinFree int
}

// NewParser returns a Parser with the default limits filled in.
func NewParser() *Parser {
	return &Parser{
		MaxBulkLen:      DefaultMaxBulkLen,
		MaxQueryBuf:     DefaultMaxQueryBuf,
		MaxMultibulkLen: DefaultMaxMultibulkLen,
	}
}

func (p *Parser) maxBulk() int {
	n := p.MaxBulkLen
	if n <= 0 {
		n = DefaultMaxBulkLen
	}
	if n > math.MaxInt-2 {
		n = math.MaxInt - 2
	}
	return int(n)
}

func (p *Parser) maxMultibulk() int64 {
	if p.MaxMultibulkLen <= 0 {
		return DefaultMaxMultibulkLen
	}
	return p.MaxMultibulkLen
}

func (p *Parser) maxQueryBuf() int64 {
	if p.MaxQueryBuf <= 0 {
		return DefaultMaxQueryBuf
	}
	return p.MaxQueryBuf
}

// Buffered returns the number of bytes read but not yet returned by Next:
// those of a partly received command and of any commands after it.
func (p *Parser) Buffered() int { return p.end - p.start }

// Unparsed returns the bytes read that are not yet part of a parsed
// argument: Buffered less the arguments (and headers) of the command in
// progress already parsed. It is Redis's qbuf, whose query buffer keeps
// only what it has not turned into arguments (a big argument on its way
// is the argument's bytes alone).
func (p *Parser) Unparsed() int { return p.end - p.pos }

// InBigArg reports whether an argument of at least bigArg bytes is
// arriving: the reader may then read again at once, as Redis reads the
// rest of such an argument in one call, rather than one buffer's worth
// per wake-up.
func (p *Parser) InBigArg() bool {
	return p.err == nil && p.multi > 0 && p.bulk >= bigArg && p.end-p.pos < p.bulk+2
}

// Free returns the room left in the read buffer after the data read.
func (p *Parser) Free() int { return len(p.buf) - p.end }

// NextByte returns the first byte of the next command when Next has
// returned the previous one whole and that byte is buffered: '*' for a
// multibulk command, anything else for an inline one. ok is false in the
// middle of a command or with nothing buffered. It lets a reader of
// files that hold only multibulk commands (the AOF, where Redis refuses
// any other line) tell them apart before Next parses the line.
func (p *Parser) NextByte() (b byte, ok bool) {
	if p.multi != 0 || p.pos >= p.end {
		return 0, false
	}
	return p.buf[p.pos], true
}

// Reset discards everything buffered, the command in progress and any
// sticky error, and releases buffers that grew big, so that the Parser can
// serve a new connection. Arguments returned by Next become invalid.
func (p *Parser) Reset() {
	if len(p.buf) > maxRetain {
		p.setBuf(nil)
	}
	if cap(p.spans) > maxRetainArgs {
		p.spans = nil
	}
	if cap(p.args) > maxRetainArgs {
		p.args = nil
	}
	p.start, p.pos, p.end, p.scan = 0, 0, 0, 0
	p.peak, p.released = 0, false
	p.nul = false
	p.multi, p.bulk = 0, 0
	p.spans = p.spans[:0]
	p.err = nil
}

// Fill reads once from r into the buffer's free space and returns what the
// Read call returned. Before reading it makes room: it drops the commands
// already returned by Next, moving a partial command to the front of the
// buffer, and grows the buffer when that command fills it. Growth is
// geometric and follows the bytes that actually arrive; a declared
// argument length only lets it reserve up to 1 MiB ahead.
//
// Fill invalidates the arguments returned by Next. If, after the read, the
// bytes held for the command in progress plus those not yet parsed exceed
// MaxQueryBuf, Fill returns ErrQueryBufferLimit (the connection must be
// closed without a reply). After a protocol error Fill reads nothing and
// returns that error.
func (p *Parser) Fill(r io.Reader) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if p.released {
		return p.wakeFill(r)
	}
	p.makeRoom(0)
	n, err := r.Read(p.buf[p.end:])
	if n < 0 || n > len(p.buf)-p.end {
		return 0, errBadRead
	}
	return n, p.filled(n, err)
}

// wakeFill is Fill for a released Parser: it waits for input with a small
// read into the Parser itself, and only then takes a buffer for it.
func (p *Parser) wakeFill(r io.Reader) (int, error) {
	n, err := r.Read(p.wake[:])
	if n < 0 || n > len(p.wake) {
		return 0, errBadRead
	}
	if n == 0 {
		return 0, err
	}
	p.released = false
	p.makeRoom(n)
	copy(p.buf[p.end:], p.wake[:n])
	return n, p.filled(n, err)
}

// filled accounts for n bytes just read and enforces MaxQueryBuf.
func (p *Parser) filled(n int, err error) error {
	p.end += n
	used := p.end - p.start
	if used > p.peak {
		p.peak = used
	}
	if int64(used) > p.maxQueryBuf() {
		p.err = ErrQueryBufferLimit
		return p.err
	}
	return err
}

// Reserve makes, ahead of the next Fill, the room that Fill would make
// before reading (see Fill), so that Cap reports the buffer the
// connection will wait on. It does nothing for a released Parser.
func (p *Parser) Reserve() {
	if !p.released && p.err == nil {
		p.makeRoom(0)
	}
}

// Cap returns the size of the read buffer (Redis's qbuf + qbuf-free).
// Unlike the other methods it may be called from any goroutine (CLIENT
// LIST describes other connections); it then reports the size as of the
// owner's last change of buffer.
func (p *Parser) Cap() int { return int(p.size.Load()) }

// Cron is the query buffer part of Redis's clientsCron, for the owner to
// call between commands (before Fill) with the server's cron tick counter:
// on the first call for a new tick it releases the buffer of a connection
// idle for more than 2 seconds (Release) or shrinks an oversized one
// (Shrink). Then, at every call, it makes the room the next Fill will
// read into (Reserve). It invalidates the arguments returned by Next.
func (p *Parser) Cron(tick uint64, idle bool) {
	if tick != p.cronTick {
		p.cronTick = tick
		if idle {
			p.Release()
		} else {
			p.Shrink()
		}
	}
	p.Reserve()
}

// CronDue reports whether Cron would act on tick, so that the caller can
// skip working out idle when it would not.
func (p *Parser) CronDue(tick uint64) bool { return tick != p.cronTick }

// pending returns the free space the argument being read still needs, when
// it is at least minLen long: the rest of it, counting at most maxPrealloc
// for the whole argument, so that a length announced but not sent reserves
// that much once, not again at every read.
func (p *Parser) pending(minLen int) int {
	if p.multi == 0 || p.bulk < 0 || p.bulk < minLen {
		return 0
	}
	return max(0, min(p.bulk, maxPrealloc)+2-(p.end-p.pos))
}

// Shrink is the periodic query-buffer check of Redis's clientsCron, for the
// owner to call about once per cron tick between commands: a buffer bigger
// than 32 KiB that is more than twice the peak use since the previous call
// is reallocated to fit that peak (and the argument being read), so that
// a connection that once sent a big command does not keep its buffer,
// while one that keeps sending big commands does not reallocate for each.
// It invalidates the arguments returned by Next.
func (p *Parser) Shrink() {
	size := len(p.buf)
	used := p.end - p.start
	want := max(used, p.peak, used+p.pending(0))
	if !p.released && size > resizeThreshold && size/2 > p.peak {
		p.resize(max(want, initialBufSize))
	}
	p.peak = max(used, used+p.pending(0))
}

// Release is Redis's treatment of a client idle for a while: with nothing
// buffered the read buffer is dropped and the next Fill waits with a small
// read instead; with a command in progress the buffer is cut to the bytes
// held. Fill makes room again when input arrives. It invalidates the
// arguments returned by Next.
func (p *Parser) Release() {
	if p.err != nil {
		return
	}
	used := p.end - p.start
	if used == 0 {
		p.shift(p.start)
		p.setBuf(nil)
		p.released = true
	} else if used < len(p.buf) {
		p.resize(used)
		p.released = true
	}
	p.peak = used
}

// resize moves the data held to a new buffer of size bytes (>= the data).
func (p *Parser) resize(size int) {
	nb := make([]byte, size)
	copy(nb, p.buf[p.start:p.end])
	p.setBuf(nb)
	p.shift(p.start)
}

// setBuf replaces the buffer (the data must already be in place).
func (p *Parser) setBuf(b []byte) {
	p.buf = b
	p.size.Store(int64(len(b)))
}

// makeRoom ensures the buffer has at least minRead bytes of free space
// (testMinFree in tests), and at least need. When it must compact or
// grow, it makes room for the rest of the argument being read, up to
// maxPrealloc; for an argument announced at least bigArg long it does so
// at once, as Redis does.
func (p *Parser) makeRoom(need int) {
	if p.start == p.end {
		// Nothing pending: start over at the front.
		p.shift(p.start)
	}
	initSize, minFree := initialBufSize, minRead
	if p.testSizes {
		initSize, minFree = p.testInit, p.testMinFree
	}
	minFree = max(minFree, need)
	if p.multi > 0 && p.bulk >= bigArg && p.roomForBigArg(need) {
		return
	}
	if free := len(p.buf) - p.end; free >= minFree && free >= p.pending(bigArg) {
		return
	}
	target := minFree // free space wanted after making room
	lastBulk := false
	remaining := 0 // bytes still missing from the argument being read
	if p.multi > 0 && p.bulk >= 0 {
		remaining = p.bulk + 2 - (p.end - p.pos)
		target = max(minFree, p.pending(0))
		lastBulk = p.multi == 1
	}
	used := p.end - p.start
	if used+target <= len(p.buf) && (len(p.buf) <= maxRetain || 4*(used+target) > len(p.buf)) {
		// Compacting frees enough space.
		copy(p.buf, p.buf[p.start:p.end])
		p.shift(p.start)
		return
	}
	var size int
	if used+target <= len(p.buf) {
		// A big buffer mostly unused: shrink it.
		size = max(initSize, 2*(used+target))
	} else {
		size = max(initSize, 2*len(p.buf), used+target)
		if lastBulk {
			// The command ends with this argument: do not grow past it.
			size = min(size, used+max(remaining, target))
		}
	}
	p.resize(size)
}

// roomForBigArg is makeRoom while an argument of at least bigArg bytes
// arrives: the buffer is sized for exactly the rest of it, as Redis sizes
// its query buffer for a big argument, so that the connection's memory is
// what it sent (client eviction and CLIENT LIST count it). What is made
// ahead of the data is at most maxPrealloc or as much as has arrived, so
// a length announced and not sent costs little, while a long argument
// still grows the buffer geometrically. It reports false when the
// argument is complete and the general rule applies.
func (p *Parser) roomForBigArg(need int) bool {
	remaining := p.bulk + 2 - (p.end - p.pos)
	if remaining <= 0 {
		return false
	}
	want := max(need, min(remaining, minRead), p.pending(0))
	if len(p.buf)-p.end >= want {
		return true
	}
	used := p.end - p.start
	target := max(want, min(remaining, max(maxPrealloc, used)))
	if used+target <= len(p.buf) {
		copy(p.buf, p.buf[p.start:p.end])
		p.shift(p.start)
		return true
	}
	p.resize(max(used+target, initialBufSize))
	return true
}

// shift moves all positions d bytes back, after the data moved by as much.
func (p *Parser) shift(d int) {
	p.start -= d
	p.pos -= d
	p.end -= d
	p.scan -= d
}

// advance moves the parse cursor to pos, starting a new line.
func (p *Parser) advance(pos int) {
	p.pos = pos
	p.scan = pos
	p.nul = false
}

// fastHeader is the common case of a header line: the prefix byte at pos,
// then 1 to 18 digits without a leading zero (or a lone "0"), then CR and
// one more byte. It returns the number and the index of the CR, or cr = -1
// when the line is anything else, which the general path then handles.
func (p *Parser) fastHeader() (n int64, cr int) {
	b := p.buf[p.pos:p.end]
	if len(b) < 4 {
		return 0, -1
	}
	c := b[1]
	if c == '0' {
		if b[2] == '\r' {
			return 0, p.pos + 2
		}
		return 0, -1
	}
	if c < '1' || c > '9' {
		return 0, -1
	}
	n = int64(c - '0')
	for i := 2; i < len(b)-1 && i <= 19; i++ {
		c := b[i]
		if c == '\r' {
			return n, p.pos + i
		}
		if c < '0' || c > '9' {
			return 0, -1
		}
		n = n*10 + int64(c-'0')
	}
	return 0, -1
}

// find returns the index of the first c at or after pos, or -1. Like
// Redis's strchr over the query buffer, the search stops at a NUL byte, so
// a line containing NUL never ends. The search resumes where it stopped.
func (p *Parser) find(c byte) int {
	if p.nul {
		return -1
	}
	if p.scan < p.pos {
		p.scan = p.pos
	}
	for i, x := range p.buf[p.scan:p.end] {
		if x == c {
			p.scan += i
			return p.scan
		}
		if x == 0 {
			p.nul = true
			return -1
		}
	}
	p.scan = p.end
	return -1
}

func (p *Parser) fail(err error) ([][]byte, error) {
	p.err = err
	return nil, err
}

// Next returns the next complete command. It returns nil, nil when more
// data is needed (call Fill), and a *ProtocolError for a malformed request.
// Empty commands (an empty inline line, "*0" or "*-1") are skipped.
//
// The arguments are sub-slices of the buffer, with their capacity clipped
// so that appending to one copies it. The bytes stay valid until the next
// Fill or Reset; the [][]byte itself is reused by the next call to Next.
// A command cut short is resumed where it stopped after more data is read.
func (p *Parser) Next() ([][]byte, error) {
	if p.err != nil {
		return nil, p.err
	}
	for {
		if p.multi == 0 {
			p.start = p.pos
			if cap(p.args) > maxRetainArgs || cap(p.spans) > maxRetainArgs {
				// Let the tables of a command with many arguments go.
				p.args, p.spans = nil, nil
			}
			if p.pos == p.end {
				return nil, nil
			}
			if p.buf[p.pos] != '*' {
				args, ok, err := p.inline()
				if err != nil {
					return p.fail(err)
				}
				if !ok {
					return nil, nil
				}
				if len(args) == 0 {
					continue
				}
				return args, nil
			}
			ok, err := p.multibulkHeader()
			if err != nil {
				return p.fail(err)
			}
			if !ok {
				return nil, nil
			}
			if p.multi == 0 {
				continue
			}
		}
		ok, err := p.bulks()
		if err != nil {
			return p.fail(err)
		}
		if !ok {
			return nil, nil
		}
		args := p.args[:0]
		base := p.buf[p.start:p.pos]
		for _, s := range p.spans {
			args = append(args, base[s.off:s.off+s.n:s.off+s.n])
		}
		p.args = args
		p.spans = p.spans[:0]
		p.start = p.pos
		return args, nil
	}
}

// inline parses an inline command at pos. ok is false when its line is not
// complete yet.
func (p *Parser) inline() (args [][]byte, ok bool, err error) {
	nl := p.find('\n')
	if nl < 0 {
		if p.end-p.pos > MaxInlineSize {
			return nil, false, ErrProtoTooBigInline
		}
		return nil, false, nil
	}
	line := p.buf[p.pos:nl]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	args, err = splitInPlace(line, p.args)
	p.args = args
	if err != nil {
		return nil, false, ErrProtoUnbalancedQuotes
	}
	p.advance(nl + 1)
	p.start = p.pos
	return args, true, nil
}

// multibulkHeader parses the "*<count>\r\n" line at pos. ok is false when
// the line is not complete yet. On success p.multi is the count, or 0 for an
// empty command.
func (p *Parser) multibulkHeader() (ok bool, err error) {
	n, cr := p.fastHeader()
	if cr < 0 {
		cr = p.find('\r')
		if cr < 0 {
			if p.end-p.pos > MaxInlineSize {
				return false, ErrProtoTooBigMultibulkCount
			}
			return false, nil
		}
		if cr+2 > p.end { // Redis wants one more byte and does not check it is LF
			return false, nil
		}
		var valid bool
		n, valid = ParseInt(p.buf[p.pos+1 : cr])
		if !valid {
			return false, ErrProtoInvalidMultibulkLen
		}
	}
	if n > p.maxMultibulk() {
		return false, ErrProtoInvalidMultibulkLen
	}
	if n > UnauthMaxMultibulkLen && p.Unauthenticated {
		return false, ErrProtoUnauthMultibulkLen
	}
	p.advance(cr + 2)
	if n > 0 {
		if n > math.MaxInt {
			return false, ErrProtoInvalidMultibulkLen
		}
		p.multi = int(n)
		p.bulk = -1
		p.spans = p.spans[:0]
	}
	return true, nil
}

// bulks parses the arguments of the current multibulk, resuming after those
// already parsed. ok is true once all of them are in.
func (p *Parser) bulks() (ok bool, err error) {
	for p.multi > 0 {
		if p.bulk < 0 {
			n, cr := int64(0), -1
			if p.pos < p.end && p.buf[p.pos] == '$' {
				n, cr = p.fastHeader()
			}
			if cr < 0 {
				cr = p.find('\r')
				if cr < 0 {
					if p.end-p.pos > MaxInlineSize {
						return false, ErrProtoTooBigBulkCount
					}
					return false, nil
				}
				if cr+2 > p.end {
					return false, nil
				}
				if c := p.buf[p.pos]; c != '$' {
					return false, expectedDollar(c)
				}
				var valid bool
				n, valid = ParseInt(p.buf[p.pos+1 : cr])
				if !valid || n < 0 {
					return false, ErrProtoInvalidBulkLen
				}
			}
			if n > int64(p.maxBulk()) {
				return false, ErrProtoInvalidBulkLen
			}
			if n > UnauthMaxBulkLen && p.Unauthenticated {
				return false, ErrProtoUnauthBulkLen
			}
			p.advance(cr + 2)
			p.bulk = int(n)
		}
		// The data and the two bytes after it, which Redis skips unchecked.
		if p.end-p.pos-2 < p.bulk {
			return false, nil
		}
		p.spans = append(p.spans, span{p.pos - p.start, p.bulk})
		p.advance(p.pos + p.bulk + 2)
		p.bulk = -1
		p.multi--
	}
	return true, nil
}
