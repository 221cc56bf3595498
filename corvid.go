// Package corvid embeds a Corvid server — a Redis-compatible in-memory data
// store — in a Go program or test. The embedded server is the same server the
// corvid binary runs, with the same command semantics, listening on a real
// TCP port so any Redis client can talk to it:
//
//	srv, err := corvid.Start(corvid.Options{})          // a free port on 127.0.0.1
//	if err != nil { … }
//	defer srv.Close()
//	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
//
// Configuration uses redis.conf directive names, as on the command line.
package corvid

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/server"
)

// Options configure an embedded server.
type Options struct {
	// Addr is the host:port to listen on. The default, "127.0.0.1:0",
	// picks a free loopback port.
	Addr string
	// Config holds redis.conf directives as name/value pairs, applied in
	// order, e.g. {"requirepass", "secret", "databases", "4"}. Unless it
	// (or ConfigFile) sets "dir", the server is in memory only: no save
	// points, and any file it writes goes to a temporary directory removed
	// at Close.
	Config []string
	// ConfigFile, if set, is loaded first (CONFIG REWRITE writes it back).
	ConfigFile string
	// Log receives the server log. The default discards it.
	Log io.Writer
}

// Server is a running embedded Corvid server.
type Server struct {
	srv    *server.Server
	tmpDir string // the default data directory, removed at Close
}

// Start configures and starts a server.
func Start(opts Options) (*Server, error) {
	cfg := config.New()
	if opts.ConfigFile != "" {
		if err := cfg.LoadFile(opts.ConfigFile); err != nil {
			return nil, err
		}
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("corvid: bad address %q: %w", addr, err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("corvid: bad port in %q", addr)
	}
	if host == "" {
		host = "*"
	}
	if len(opts.Config)%2 != 0 {
		return nil, fmt.Errorf("corvid: Options.Config needs name/value pairs")
	}
	text := "bind " + host + "\nport " + port + "\n"
	var tmpDir string
	if opts.ConfigFile == "" && !hasDirective(opts.Config, "dir") {
		// In memory by default: no save points, and files (if any are
		// written) go to a directory of this server's own, removed at Close.
		tmpDir, err = os.MkdirTemp("", "corvid-")
		if err != nil {
			return nil, err
		}
		text += "save \"\"\ndir " + quote(tmpDir) + "\n"
	}
	for i := 0; i < len(opts.Config); i += 2 {
		text += opts.Config[i] + " " + quote(opts.Config[i+1]) + "\n"
	}
	if err := cfg.LoadString(text); err != nil {
		return nil, err
	}
	srv, err := server.New(cfg)
	if err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	srv.Log.SetOutput(opts.Log)
	srv.EphemeralPort = true
	if err := srv.Start(); err != nil {
		return nil, err
	}
	return &Server{srv: srv, tmpDir: tmpDir}, nil
}

// quote makes a value one config argument (values may hold spaces or be empty).
func quote(v string) string { return strconv.Quote(v) }

// Addr returns the address the server listens on, as host:port.
func (s *Server) Addr() string { return s.srv.Addr().String() }

// Close stops the server and disconnects its clients.
func (s *Server) Close() error {
	err := s.srv.Close()
	if s.tmpDir != "" {
		_ = os.RemoveAll(s.tmpDir)
	}
	return err
}

// ShutdownRequested is closed when a client sends SHUTDOWN; an embedding
// program that wants redis-server's behaviour calls Close then.
func (s *Server) ShutdownRequested() <-chan struct{} { return s.srv.ShutdownRequested }

// hasDirective reports whether name/value pairs set name.
func hasDirective(pairs []string, name string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.EqualFold(pairs[i], name) {
			return true
		}
	}
	return false
}
