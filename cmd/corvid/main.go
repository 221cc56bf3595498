// Command corvid runs a Corvid server. It is invoked like redis-server:
//
//	corvid [/path/to/corvid.conf] [--directive value ...]
//
// and as a sentinel like redis-sentinel, when started under that name or
// with --sentinel:
//
//	corvid /path/to/sentinel.conf --sentinel
//
// With no arguments it listens on port 6379 of every interface, protected
// mode refusing clients from other hosts until the default user has a
// password, as Redis does; it keeps its data in memory and its
// persistence files in ./data.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"net/http"
	_ "net/http/pprof" // served only when CORVID_PPROF names an address

	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/savechild"
	"github.com/corvid-db/corvid/internal/sentinel"
	"github.com/corvid-db/corvid/internal/server"
)

func main() {
	if savechild.IsChild() {
		// This process writes a background save's file for its parent.
		os.Exit(savechild.Main())
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 1 {
		switch args[0] {
		case "-v", "--version":
			fmt.Printf("Corvid server v=%s (Redis-compatible) go\n", server.Version)
			return 0
		case "-h", "--help":
			fmt.Println("Usage: corvid [/path/to/corvid.conf] [options] [-]\n       corvid -v or --version\n       corvid -h or --help\n\nExamples:\n       corvid (run the server with default config)\n       corvid /etc/corvid/6379.conf\n       corvid --port 7777\n       corvid /etc/mycorvid.conf --loglevel verbose -")
			return 0
		}
	}
	if addr := os.Getenv("CORVID_PPROF"); addr != "" {
		// Profiling endpoint for `go tool pprof`, on demand only.
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
	cfg := config.New()
	// Started as redis-sentinel or with --sentinel, the server is a
	// sentinel: its own defaults, "sentinel" directives, and a command
	// table of the sentinel's commands.
	var sent *sentinel.Sentinel
	if sentinel.IsSentinelMode(os.Args[0], args) {
		cfg.SetSentinelDefaults()
		sent = sentinel.New(cfg, nil)
	}
	if err := cfg.LoadArgs(args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Corvid's embedded default keeps persistence files in ./data rather
	// than the working directory itself. Only the default: a dir the user
	// names, even the working directory, is used as given. A sentinel
	// keeps no data.
	if !cfg.Given("dir") && sent == nil {
		if err := os.MkdirAll(filepath.Join(cfg.Dir(), "data"), 0o755); err == nil {
			_ = cfg.LoadString("dir data")
		}
	}
	if cfg.Bool("daemonize") {
		fmt.Fprintln(os.Stderr, "corvid: daemonize yes is not supported; run it under a supervisor")
		return 1
	}
	srv, err := server.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv.SaveChildren = true // main runs savechild.Main when re-executed as one
	if sent != nil {
		sent.SetLogger(srv.Log)
		if err := sent.Load(); err != nil {
			srv.Log.Warningf("%v", err)
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		srv.SetSentinel(sent)
	}
	srv.LogStartup(cfg.ConfigFile())
	if err := srv.Start(); err != nil {
		srv.Log.Warningf("%v", err)
		return 1
	}
	if sent != nil {
		sent.Start(srv)
		defer sent.Stop()
	}
	if pidfile := cfg.String("pidfile"); pidfile != "" {
		_ = os.WriteFile(pidfile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644)
		defer os.Remove(pidfile)
	}
	// A signal schedules the shutdown, which the server carries out (or
	// refuses, and goes on) as Redis does; a second SIGINT exits at once.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	for {
		select {
		case s := <-sig:
			if srv.Signal(s) {
				return 1
			}
		case <-srv.ShutdownRequested:
			_ = srv.Shutdown(context.Background())
			return 0
		}
	}
}
