package config

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/corvid-db/corvid/internal/resp"
)

// RedisVersion is the Redis version whose configuration semantics this
// package follows; it is named in fatal configuration errors.
const RedisVersion = "7.2.4"

// LoadError is a fatal configuration error. Its Error text is the message
// redis-server prints before exiting, without the leading blank line and
// the trailing newline:
//
//	*** FATAL CONFIG FILE ERROR (Redis 7.2.4) ***
//	Reading the configuration file, at line 3
//	>>> 'port abc'
//	argument couldn't be parsed into an integer
//
// Errors found after the whole text was read (e.g. an unwritable logfile)
// have no Line and omit the two middle lines.
type LoadError struct {
	Line   int    // 1-based line number, 0 if the error is not about a line
	Text   string // the offending line, trimmed
	Reason string // e.g. "Bad directive or wrong number of arguments"
}

// Error returns the full redis-server style message.
func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString("*** FATAL CONFIG FILE ERROR (Redis " + RedisVersion + ") ***\n")
	if e.Line > 0 {
		b.WriteString("Reading the configuration file, at line " + strconv.Itoa(e.Line) + "\n")
		b.WriteString(">>> '" + e.Text + "'\n")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// CommandLine is the result of ParseCommandLine.
type CommandLine struct {
	// ConfigFile is the configuration file named by the first argument,
	// made absolute, or "" if none.
	ConfigFile string
	// Stdin is true when a lone "-" (first or last argument) asks for the
	// configuration to be read from standard input, after the file.
	Stdin bool
	// Options holds the --directive arguments as configuration lines, to
	// be parsed after the file and stdin.
	Options string
}

// ParseCommandLine interprets server arguments (without the program name)
// exactly like redis-server: `[/path/to/conf] [-] [--directive arg ...]`.
// The first argument is the configuration file unless it starts with '-';
// a lone "-" as first or last argument reads the configuration from stdin;
// every "--name" starts a new configuration line and the following
// arguments (quoted as needed) are its arguments, so `--port 7000 --save ""`
// becomes "port 7000 \nsave \"\" ". An argument right after an option name
// is always taken as its value, even if it starts with "--"; an argument
// such as "--port 7000" carries both. `--save` directly followed by another
// option or at the end means `save ""`.
//
// The informational switches (-v, --version, -h, --help, --test-memory,
// --check-system) are not handled here: check them before calling.
func ParseCommandLine(args []string) (*CommandLine, error) {
	cl := &CommandLine{}
	if len(args) == 0 {
		return cl, nil
	}
	j := 0
	if !strings.HasPrefix(args[0], "-") {
		abs, err := filepath.Abs(args[0])
		if err != nil {
			return nil, err
		}
		cl.ConfigFile = abs
		j = 1
	}
	var opts strings.Builder
	handledLast := true
	for ; j < len(args); j++ {
		a := args[j]
		isLast := j == len(args)-1
		nextIsOption := !isLast && strings.HasPrefix(args[j+1], "--")
		switch {
		case a == "-" && (j == 0 || isLast):
			cl.Stdin = true
		case handledLast && strings.HasPrefix(a, "--"):
			if opts.Len() > 0 {
				opts.WriteByte('\n')
			}
			opts.WriteString(a[2:])
			opts.WriteByte(' ')
			words, err := resp.SplitArgs([]byte(a))
			if err == nil && len(words) == 1 {
				// Only an option name: the next argument is its value.
				handledLast = false
				switch {
				case strings.EqualFold(a, "--save") && nextIsOption:
					opts.WriteString(`""`)
					handledLast = true
				case strings.EqualFold(a, "--save") && isLast:
					opts.WriteString(`""`)
				case strings.EqualFold(a, "--sentinel") && nextIsOption:
					handledLast = true
				}
			} else {
				handledLast = true
			}
		default:
			opts.WriteString(resp.Repr(a))
			opts.WriteByte(' ')
			handledLast = true
		}
	}
	cl.Options = opts.String()
	return cl, nil
}

// LoadArgs parses the command line (see ParseCommandLine; args excludes the
// program name) and loads the configuration file, stdin if requested, then
// the command line options. Later directives override earlier ones.
func (c *Config) LoadArgs(args []string) error {
	cl, err := ParseCommandLine(args)
	if err != nil {
		return err
	}
	var stdin io.Reader
	if cl.Stdin {
		stdin = os.Stdin
	}
	if len(args) == 0 {
		return nil
	}
	return c.LoadSources(cl.ConfigFile, stdin, &cl.Options)
}

// LoadFile loads the configuration file at path (which may be a glob
// pattern) and remembers it for Rewrite.
func (c *Config) LoadFile(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	return c.LoadSources(abs, nil, nil)
}

// LoadString parses configuration text as if it were a file's content; the
// configuration file used by Rewrite is not changed.
func (c *Config) LoadString(text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loadString(text)
}

// LoadSources is redis-server's loadServerConfig: it concatenates the
// content of configFile (if not ""; it may be a glob pattern, and becomes
// the file CONFIG REWRITE writes), of stdin (if not nil) and, if options is
// not nil, a newline and *options, then parses the result. Line numbers in
// errors refer to that concatenation. Hooks do not run. On error the
// configuration is left partially loaded: the caller is expected to exit.
func (c *Config) LoadSources(configFile string, stdin io.Reader, options *string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var text strings.Builder
	if configFile != "" {
		if err := readConfigFiles(&text, configFile); err != nil {
			return err
		}
		c.configFile = configFile
	}
	if stdin != nil {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return err
		}
		text.Write(b)
	}
	if options != nil {
		text.WriteByte('\n')
		text.WriteString(*options)
	}
	return c.loadString(text.String())
}

// readConfigFiles appends the content of path to b. If path contains glob
// characters every matching file is read, in lexical order, and matching no
// file is not an error.
func readConfigFiles(b *strings.Builder, path string) error {
	if strings.ContainsAny(path, "*?[") {
		matches, err := filepath.Glob(path)
		if err != nil {
			return nil // malformed pattern: glob(3) matches nothing
		}
		for _, m := range matches {
			data, err := os.ReadFile(m)
			if err != nil {
				return errors.New("Fatal error, can't open config file '" + m + "': " + errnoText(err))
			}
			b.Write(data)
		}
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return errors.New("Fatal error, can't open config file '" + path + "': " + errnoText(err))
	}
	b.Write(data)
	return nil
}

// deprecatedDirectives are silently accepted with exactly one argument.
var deprecatedDirectives = map[string]bool{
	"list-max-ziplist-entries": true,
	"list-max-ziplist-value":   true,
	"lua-replicate-commands":   true,
}

// maxIncludeDepth bounds include recursion (Redis would overflow its stack).
const maxIncludeDepth = 32

// loadString is loadServerConfigFromString. Called with c.mu held.
func (c *Config) loadString(config string) error {
	if i := strings.IndexByte(config, 0); i >= 0 {
		config = config[:i] // the C code sees a NUL-terminated string
	}
	var lines []string
	if config != "" {
		lines = strings.Split(config, "\n")
	}
	for i, raw := range lines {
		line := strings.Trim(raw, " \t\r\n")
		fail := func(reason string) error {
			return &LoadError{Line: i + 1, Text: line, Reason: reason}
		}
		if line == "" || line[0] == '#' {
			continue
		}
		words, err := resp.SplitArgs([]byte(line))
		if err != nil {
			return fail("Unbalanced quotes in configuration line")
		}
		if len(words) == 0 {
			continue
		}
		argv := make([]string, len(words))
		for k, w := range words {
			argv[k] = string(w)
		}
		argv[0] = toLowerASCII(argv[0])
		name, args := argv[0], argv[1:]

		if r, e := c.lookup(name); r != nil {
			multi := r.spec.flags&MultiArg != 0
			if !multi && len(args) != 1 {
				return fail("wrong number of arguments")
			}
			if multi && len(args) == 1 && args[0] != "" {
				// A single argument of a multi-argument directive is
				// split again, so that --save "3600 1 300 100" works.
				sub, err := resp.SplitArgs([]byte(args[0]))
				args = args[:0:0]
				if err == nil {
					for _, w := range sub {
						args = append(args, string(w))
					}
				}
			}
			v, errStr := r.spec.ops.parse(c, e, args, true)
			if errStr != "" {
				return fail(errStr)
			}
			r.spec.ops.store(e, v)
			if c.given == nil {
				c.given = make(map[*entry]bool)
			}
			c.given[e] = true
			continue
		}
		if deprecatedDirectives[name] && len(args) == 1 {
			continue
		}
		switch {
		case name == "include" && len(args) == 1:
			if err := c.include(args[0]); err != nil {
				return err
			}
		case name == "rename-command" && len(args) == 2 && c.directives[name] == nil:
			// Applied by the server to its command table (RenamedCommands),
			// which reports a bad name against this line.
			c.renames = append(c.renames, RenameCommand{From: args[0], To: args[1],
				At: LoadError{Line: i + 1, Text: line}})
		case name == "user" && len(args) >= 1 && c.directives[name] == nil:
			c.users = append(c.users, UserDirective{Args: args, At: LoadError{Line: i + 1, Text: line}})
		case name == "rename-command" && len(args) == 2,
			name == "user" && len(args) >= 1,
			name == "loadmodule" && len(args) >= 1:
			fn := c.directives[name]
			if fn == nil {
				return fail(name + " is not supported by this server")
			}
			if err := fn(args); err != nil {
				return fail(err.Error())
			}
		case strings.Contains(name, "."):
			if len(args) < 1 {
				return fail("Module config specified without value")
			}
			return fail("Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting")
		case name == "sentinel":
			// A sentinel (internal/sentinel) registers a handler that
			// queues its directives; elsewhere they are refused, as Redis
			// refuses them outside sentinel mode.
			if fn := c.directives[name]; fn != nil {
				if err := fn(args); err != nil {
					return fail(err.Error())
				}
			} else if len(args) != 0 {
				return fail("sentinel directive while not in sentinel mode")
			}
		default:
			return fail("Bad directive or wrong number of arguments")
		}
	}
	return c.checkLoaded()
}

// include loads another configuration file (or every file matching a glob
// pattern); relative paths are relative to dir, like Redis's fopen after
// chdir.
func (c *Config) include(path string) error {
	if c.includes >= maxIncludeDepth {
		return &LoadError{Reason: "include nesting too deep (" + path + ")"}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.Dir(), path)
	}
	var text strings.Builder
	if err := readConfigFiles(&text, path); err != nil {
		return err
	}
	c.includes++
	defer func() { c.includes-- }()
	return c.loadString(text.String())
}

// checkLoaded runs the sanity checks and fixups Redis performs after parsing
// a configuration text.
func (c *Config) checkLoaded() error {
	if logfile := c.String("logfile"); logfile != "" {
		p := logfile
		if !filepath.IsAbs(p) {
			p = filepath.Join(c.Dir(), p)
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
		if err != nil {
			return &LoadError{Reason: "Can't open the log file: " + errnoText(err)}
		}
		f.Close()
	}
	if _, _, isReplica := c.ReplicaOf(); isReplica && c.Bool("cluster-enabled") {
		return &LoadError{Reason: "replicaof directive not allowed in cluster mode"}
	}
	if db := c.byName["databases"]; c.Bool("cluster-enabled") && db.i.Load() > 1 {
		c.warn("WARNING: Changing databases number from " + strconv.FormatInt(db.i.Load(), 10) + " to 1 since we are in cluster mode")
		db.i.Store(1)
	}
	clampHz(c, c.byName["hz"])
	return nil
}
