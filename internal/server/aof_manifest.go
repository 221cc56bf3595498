package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"github.com/corvid-db/corvid/internal/resp"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The AOF manifest, as Redis 7.2 reads and writes it (aof.c): one line
// per file,
//
//	file <name> seq <n> type <b|h|i>
//
// the base first, then the history files (the previous base and
// increments, kept until deleted: aof-disable-auto-gc keeps them), then
// the incremental files in the order they are replayed. Base and
// incremental files are numbered independently: a rewrite takes the next
// base number and, when it starts while appending, the next incremental
// number, so a rewrite that fails leaves one more incremental file and
// the base number does not move.
//
// Parsing follows aofLoadManifestFromFile to the letter (the same lines
// refused, with the same texts), since operators and Redis's tests read
// those texts and a manifest Redis refuses must not load here either: a
// server that loads what Redis would refuse could append to files Redis's
// tools (redis-check-aof) then take apart differently.

// AOF file types in the manifest.
const (
	aofTypeBase = 'b'
	aofTypeHist = 'h'
	aofTypeIncr = 'i'
)

// manifestMaxLine is Redis's MANIFEST_MAX_LINE: a line longer than this
// is refused (fgets reads that much at most).
const manifestMaxLine = 1024

// aofInfo is one file the manifest lists.
type aofInfo struct {
	name string
	seq  int64
	typ  byte
}

// aofManifest is the list of AOF files: Redis's aofManifest. baseSeq and
// incrSeq are the numbers the current base and the last incremental file
// took (curr_base_file_seq, curr_incr_file_seq), from which new names are
// made.
type aofManifest struct {
	base    *aofInfo
	history []aofInfo
	incrs   []aofInfo

	baseSeq, incrSeq int64
}

// clone copies m, which the caller changes and persists before making it
// the server's: a failure on the way leaves the server's untouched.
func (m *aofManifest) clone() *aofManifest {
	c := &aofManifest{baseSeq: m.baseSeq, incrSeq: m.incrSeq,
		history: append([]aofInfo(nil), m.history...), incrs: append([]aofInfo(nil), m.incrs...)}
	if m.base != nil {
		b := *m.base
		c.base = &b
	}
	return c
}

// empty reports whether m lists nothing to load (history files do not
// count: they are only waiting to be deleted).
func (m *aofManifest) empty() bool { return m.base == nil && len(m.incrs) == 0 }

// loadable lists the files to load, base first.
func (m *aofManifest) loadable() []aofInfo {
	var l []aofInfo
	if m.base != nil {
		l = append(l, *m.base)
	}
	return append(l, m.incrs...)
}

// lastIncr is the name of the incremental file being appended to, "" if
// there is none.
func (m *aofManifest) lastIncr() string {
	if len(m.incrs) == 0 {
		return ""
	}
	return m.incrs[len(m.incrs)-1].name
}

// newBase names the next base, as getNewBaseFileNameAndMarkPreAsHistory:
// the current base becomes the first history file. rdbFormat gives the
// .rdb suffix (aof-use-rdb-preamble yes), otherwise .aof.
func (m *aofManifest) newBase(filename string, rdbFormat bool) string {
	if m.base != nil {
		old := *m.base
		old.typ = aofTypeHist
		m.history = append([]aofInfo{old}, m.history...)
	}
	m.baseSeq++
	suffix := "aof"
	if rdbFormat {
		suffix = "rdb"
	}
	m.base = &aofInfo{name: fmt.Sprintf("%s.%d.base.%s", filename, m.baseSeq, suffix), seq: m.baseSeq, typ: aofTypeBase}
	return m.base.name
}

// newIncr names the next incremental file and lists it last, as
// getNewIncrAofName.
func (m *aofManifest) newIncr(filename string) string {
	m.incrSeq++
	name := fmt.Sprintf("%s.%d.incr.aof", filename, m.incrSeq)
	m.incrs = append(m.incrs, aofInfo{name: name, seq: m.incrSeq, typ: aofTypeIncr})
	return name
}

// markIncrsHistory makes the incremental files a new base covers history
// files, as markRewrittenIncrAofAsHistory: all of them, or all but the
// last when keepLast (appending goes on in it: it began at the rewrite's
// instant). They go to the front of the history list in their order.
func (m *aofManifest) markIncrsHistory(keepLast bool) {
	n := len(m.incrs)
	if keepLast {
		n--
	}
	if n <= 0 {
		return
	}
	moved := make([]aofInfo, 0, n+len(m.history))
	for _, ai := range m.incrs[:n] {
		ai.typ = aofTypeHist
		moved = append(moved, ai)
	}
	m.history = append(moved, m.history...)
	m.incrs = append([]aofInfo(nil), m.incrs[n:]...)
}

// format is the manifest's text, as getAofManifestAsString.
func (m *aofManifest) format() []byte {
	var b bytes.Buffer
	if m.base != nil {
		formatAOFInfo(&b, *m.base)
	}
	for _, ai := range m.history {
		formatAOFInfo(&b, ai)
	}
	for _, ai := range m.incrs {
		formatAOFInfo(&b, ai)
	}
	return b.Bytes()
}

// formatAOFInfo writes one manifest line, as aofInfoFormat: a name that
// sdssplitargs would not read back as one argument is quoted as
// sdscatrepr quotes it.
func formatAOFInfo(b *bytes.Buffer, ai aofInfo) {
	name := ai.name
	if needsRepr(name) {
		name = resp.Repr(name)
	}
	fmt.Fprintf(b, "file %s seq %d type %c\n", name, ai.seq, ai.typ)
}

// cIsSpace is C's isspace in the C locale.
func cIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// cIsPrint is C's isprint in the C locale (bytes above 0x7e, signed
// chars in Redis, are not printable).
func cIsPrint(c byte) bool { return c >= 0x20 && c <= 0x7e }

// needsRepr is sdsneedsrepr: whether s has a byte sdscatrepr escapes, or
// a space, which would split it. A single quote counts too, unlike in
// Redis: sdssplitargs reads one as the start of a quoted argument, so
// Redis writes a manifest for appendfilename "it's.aof" that it then
// refuses to read; quoted, the name reads back in Redis as here.
func needsRepr(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' || c == '"' || c == '\'' || !cIsPrint(c) || cIsSpace(c) {
			return true
		}
	}
	return false
}

// splitArgs is sdssplitargs (resp.SplitArgs) for a manifest line: ok is
// false for unbalanced quotes or a closing quote followed by anything but
// a blank. The line ends at a NUL, as a C string does.
func splitArgs(line string) (args []string, ok bool) {
	parts, err := resp.SplitArgs([]byte(line))
	if err != nil {
		return nil, false
	}
	args = make([]string, len(parts))
	for i, p := range parts {
		args[i] = string(p)
	}
	return args, true
}

// atoll is C's atoll: leading blanks, a sign, the digits that follow;
// 0 without digits, saturated on overflow as glibc's strtoll.
func atoll(s string) int64 {
	i := 0
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var n uint64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + uint64(s[i]-'0')
		if n > math.MaxInt64 {
			if neg {
				return math.MinInt64
			}
			return math.MaxInt64
		}
	}
	if neg {
		return -int64(n)
	}
	return int64(n)
}

// manifestError is a manifest Redis would refuse to load: the line at
// fault (its number and text, trimmed; none for an empty manifest) and
// Redis's words for what is wrong with it.
type manifestError struct {
	lineNum int
	line    string
	hasLine bool
	msg     string
}

// Error is Redis's text for the refusal, its last log line.
func (e *manifestError) Error() string { return e.msg }

// Redis's texts for a manifest it refuses (aofLoadManifestFromFile).
const (
	errManifestEmpty     = "Found an empty AOF manifest"
	errManifestRead      = "Read AOF manifest failed"
	errManifestLongLine  = "The AOF manifest file contains too long line"
	errManifestFormat    = "Invalid AOF manifest file format"
	errManifestPath      = "File can't be a path, just a filename"
	errManifestDupBase   = "Found duplicate base file information"
	errManifestNonMonoto = "Found a non-monotonic sequence number"
	errManifestType      = "Unknown AOF file type"
)

// parseAOFManifest reads a manifest as aofLoadManifestFromFile does. Its
// quirks are kept: comment lines (starting with '#') are skipped before
// anything else is checked, a last line without its newline counts as
// too long (fgets could not tell), keys are matched without regard to
// case and unknown ones ignored (forward compatibility), a line needs at
// least the three pairs, a base may appear anywhere but once, and the
// incremental files' numbers must increase.
func parseAOFManifest(r io.Reader) (*aofManifest, error) {
	m := &aofManifest{}
	br := bufio.NewReader(r)
	var maxSeq int64
	lineNum := 0
	for {
		buf, err := fgets(br, manifestMaxLine)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, &manifestError{msg: errManifestRead}
		}
		if len(buf) == 0 {
			if lineNum == 0 {
				return nil, &manifestError{msg: errManifestEmpty}
			}
			return m, nil
		}
		lineNum++
		// C string functions stop at a NUL.
		if i := strings.IndexByte(buf, 0); i >= 0 {
			buf = buf[:i]
		}
		if strings.HasPrefix(buf, "#") {
			continue
		}
		if !strings.Contains(buf, "\n") {
			return nil, &manifestError{msg: errManifestLongLine}
		}
		line := strings.Trim(buf, " \t\r\n")
		fail := func(msg string) (*aofManifest, error) {
			return nil, &manifestError{lineNum: lineNum, line: line, hasLine: true, msg: msg}
		}
		if line == "" {
			return fail(errManifestFormat)
		}
		argv, ok := splitArgs(line)
		if !ok || len(argv) < 6 || len(argv)%2 != 0 {
			return fail(errManifestFormat)
		}
		var ai aofInfo
		var hasName bool
		for i := 0; i < len(argv); i += 2 {
			switch {
			case strings.EqualFold(argv[i], "file"):
				ai.name, hasName = argv[i+1], true
				if strings.ContainsAny(ai.name, "/\\") {
					return fail(errManifestPath)
				}
			case strings.EqualFold(argv[i], "seq"):
				ai.seq = atoll(argv[i+1])
			case strings.EqualFold(argv[i], "type"):
				ai.typ = 0
				if v := argv[i+1]; v != "" {
					ai.typ = v[0]
				}
			}
		}
		if !hasName || ai.seq == 0 || ai.typ == 0 {
			return fail(errManifestFormat)
		}
		switch ai.typ {
		case aofTypeBase:
			if m.base != nil {
				return fail(errManifestDupBase)
			}
			b := ai
			m.base = &b
			m.baseSeq = ai.seq
		case aofTypeHist:
			m.history = append(m.history, ai)
		case aofTypeIncr:
			if ai.seq <= maxSeq {
				return fail(errManifestNonMonoto)
			}
			m.incrs = append(m.incrs, ai)
			m.incrSeq, maxSeq = ai.seq, ai.seq
		default:
			return fail(errManifestType)
		}
	}
}

// fgets is C's fgets(buf, max+1, fp): up to max bytes, ending after the
// first newline; "" at the end of the input.
func fgets(br *bufio.Reader, max int) (string, error) {
	var b []byte
	for len(b) < max {
		c, err := br.ReadByte()
		if err != nil {
			return string(b), err
		}
		b = append(b, c)
		if c == '\n' {
			break
		}
	}
	return string(b), nil
}

// strerror is C's strerror text for err's errno ("No such file or
// directory"), which Redis's log lines carry and its tests match; Go's
// texts are the same but for the first letter.
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" && s[0] >= 'a' && s[0] <= 'z' {
			s = string(s[0]-'a'+'A') + s[1:]
		}
		return s
	}
	return err.Error()
}

// persistManifest writes m as the manifest, as Redis's
// writeAofManifestFile: a temporary file (temp-<name>.manifest), fsynced
// and renamed over the manifest, then the directory fsynced, so that a
// crash leaves the old manifest or the new one, never half of one.
// Failures are logged in Redis's words.
func (s *Server) persistManifest(m *aofManifest) error {
	name := s.aofFilename() + ".manifest"
	tmpName := "temp-" + name
	tmp := s.aofPath(tmpName)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o644)
	if err != nil {
		s.Log.Warningf("Can't open the AOF manifest file %s: %s", tmpName, strerror(err))
		return err
	}
	if _, err = f.Write(m.format()); err != nil {
		s.Log.Warningf("Error trying to write the temporary AOF manifest file %s: %s", tmpName, strerror(err))
	} else if err = f.Sync(); err != nil {
		s.Log.Warningf("Fail to fsync the temp AOF file %s: %s.", tmpName, strerror(err))
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
		s.Log.Warningf("Error trying to write the temporary AOF manifest file %s: %s", tmpName, strerror(err))
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, s.aofPath(name)); err != nil {
		s.Log.Warningf("Error trying to rename the temporary AOF manifest file %s into %s: %s", tmpName, name, strerror(err))
		return err
	}
	syncDir(s.aofDir())
	return nil
}

// loadManifestFromDisk reads the manifest, as Redis's
// aofLoadManifestFromDisk: no directory or no manifest is an empty one
// (nothing written yet, or an AOF from before Redis 7 to upgrade); a
// manifest Redis would refuse is logged as Redis logs it and returned as
// an error whose text is Redis's last line, which the server stops with.
func (s *Server) loadManifestFromDisk() (*aofManifest, error) {
	if st, err := os.Stat(s.aofDir()); err != nil || !st.IsDir() {
		return &aofManifest{}, nil
	}
	path := s.aofManifest()
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return &aofManifest{}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("Fatal error: can't open the AOF manifest file %s for reading: %s", path, strerror(err))
	}
	defer f.Close()
	m, err := parseAOFManifest(f)
	if err != nil {
		s.Log.Warningf("*** FATAL AOF MANIFEST FILE ERROR ***")
		var me *manifestError
		if errors.As(err, &me) && me.hasLine {
			s.Log.Warningf("Reading the manifest file, at line %d", me.lineNum)
			s.Log.Warningf(">>> '%s'", me.line)
		}
		return nil, err
	}
	return m, nil
}

// deleteAOFHistoryLocked deletes the history files and persists the
// manifest without them, as Redis's aofDelHistoryFiles, unless
// aof-disable-auto-gc keeps them; a.mu is held.
func (s *Server) deleteAOFHistoryLocked() error {
	a := &s.aof
	if a.man == nil || len(a.man.history) == 0 || s.Config.Bool("aof-disable-auto-gc") {
		return nil
	}
	m := a.man.clone()
	for _, ai := range m.history {
		s.Log.Noticef("Removing the history file %s in the background", ai.name)
		bgUnlink(s.aofPath(ai.name))
	}
	m.history = nil
	a.man = m
	return s.persistManifest(m)
}

// bgUnlink removes a file's name at once and leaves freeing its blocks
// (slow for a big file) to a goroutine that closes the last descriptor,
// as Redis's bg_unlink: a file of the same name made right after is not
// touched.
func bgUnlink(path string) {
	f, err := os.Open(path)
	_ = os.Remove(path)
	if err == nil {
		go f.Close()
	}
}

// regularFileExists is Redis's fileExist: path is a regular file.
func regularFileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// upgradeOldAOF moves an AOF of Redis before 7 (appendfilename, one file
// in dir) into appenddirname and makes a manifest listing it as the base,
// as Redis's aofUpgradePrepare, when the file is there and: appenddirname
// is not, or its manifest lists nothing, or it lists only that file as
// the base and the file is not in appenddirname yet (an upgrade cut
// short between writing the manifest and moving the file). The manifest
// is written before the file moves, so a crash at any point is retried at
// the next start. The manifest to use is returned.
func (s *Server) upgradeOldAOF(m *aofManifest) (*aofManifest, error) {
	name := s.aofFilename()
	old := filepath.Join(s.Config.Dir(), name)
	if !regularFileExists(old) {
		return m, nil
	}
	dir := s.aofDir()
	st, err := os.Stat(dir)
	dirExists := err == nil && st.IsDir()
	interrupted := m.base != nil && len(m.incrs) == 0 && m.base.name == name && !regularFileExists(s.aofPath(name))
	if dirExists && !m.empty() && !interrupted {
		return m, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("Can't open or create append-only dir %s: %s", s.Config.String("appenddirname"), strerror(err))
	}
	m = m.clone()
	m.base = &aofInfo{name: name, seq: 1, typ: aofTypeBase}
	m.baseSeq = 1
	if err := s.persistManifest(m); err != nil {
		return nil, err
	}
	if err := os.Rename(old, s.aofPath(name)); err != nil {
		return nil, fmt.Errorf("Error trying to move the old AOF file %s into dir %s: %s", name, s.Config.String("appenddirname"), strerror(err))
	}
	syncDir(s.Config.Dir())
	s.Log.Noticef("Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).", name, s.Config.String("appenddirname"))
	return m, nil
}
