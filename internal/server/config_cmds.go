package server

import (
	"errors"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
)

// configGetCommand is CONFIG GET pattern [pattern ...]: a map of every
// matching directive to its value (a flat array in RESP2).
func (s *Server) configGetCommand(c *command.Ctx) {
	pats := make([]string, len(c.Args)-2)
	for i, a := range c.Args[2:] {
		pats[i] = string(a)
	}
	res := s.Config.Get(pats)
	c.W.MapLen(len(res))
	for _, nv := range res {
		c.W.BulkString(nv.Name)
		c.W.BulkString(nv.Value)
	}
}

// redacted replaces secret arguments in what the server records.
var redacted = []byte("(redacted)")

// configSetCommand is CONFIG SET name value [name value ...], applied
// atomically by the config package (all or nothing, hooks included).
func (s *Server) configSetCommand(c *command.Ctx) {
	if len(c.Args)%2 != 0 {
		c.Error(command.ErrSyntax)
		return
	}
	loading := s.load.active.Load() || s.load.async.Load()
	deniedWhileLoading := false
	pairs := make([][2]string, 0, (len(c.Args)-2)/2)
	for i := 2; i < len(c.Args); i += 2 {
		pairs = append(pairs, [2]string{string(c.Args[i]), string(c.Args[i+1])})
		if loading && denyWhileLoading(string(c.Args[i])) {
			deniedWhileLoading = true
		}
		// Secrets never reach the slow log: the logged arguments are
		// c.Args, so the value is replaced there, as Redis redacts argv.
		if d, ok := config.Lookup(string(c.Args[i])); ok && d.Flags&config.Sensitive != 0 {
			c.Args[i+1] = redacted
		}
	}
	if deniedWhileLoading {
		// Redis's DENY_LOADING_CONFIG, whose refusal comes first.
		c.Error(errLoading)
		return
	}
	s.configSet.mu.Lock()
	s.configSet.ctx = c
	err := s.Config.SetWithOptions(pairs, config.SetOptions{LocalClient: client(c).isLocal})
	s.configSet.ctx = nil
	s.configSet.mu.Unlock()
	if err != nil {
		c.Error(err.Error())
		return
	}
	c.OK()
}

// denyWhileLoading reports whether the configuration name may not change
// while a dataset loads, as Redis's DENY_LOADING_CONFIG (the AOF, the
// diskless load mode, the working directory).
func denyWhileLoading(name string) bool {
	switch strings.ToLower(name) {
	case "appendonly", "repl-diskless-load", "dir":
		return true
	}
	return false
}

// configSetHoldsShards reports, to a configuration hook, whether the
// CONFIG SET running it holds every keyspace shard (it runs inside EXEC,
// which locks them all for a transaction holding CONFIG SET): the hook
// must then use the keyspace without locking it, as shard locks are not
// reentrant. Only hooks may call it: CONFIG SET holds configSet.mu while
// they run, and it is false for hooks run at startup.
func (s *Server) configSetHoldsShards() bool {
	c := s.configSet.ctx
	if c == nil {
		return false
	}
	cl, ok := c.Conn.(*Client)
	return ok && cl.shards.All()
}

// configResetStatCommand is CONFIG RESETSTAT: INFO's stats counters,
// commandstats, errorstats and the latency histograms start over. The
// slow log and latency events are kept, as in Redis.
func (s *Server) configResetStatCommand(c *command.Ctx) {
	s.resetStats(c)
	c.OK()
}

// resetStats zeroes every counter of Server.Stats (all of them are
// cumulative counters, so new ones are covered without touching this), the
// per-command statistics, the error table and the latency histograms.
func (s *Server) resetStats(c *command.Ctx) {
	v := reflect.ValueOf(&s.Stats).Elem()
	for i := 0; i < v.NumField(); i++ {
		if p, ok := v.Field(i).Addr().Interface().(*atomic.Int64); ok {
			p.Store(0)
		}
	}
	s.Store.ExpiredKeys.Store(0)
	unlock := s.lockAllShards(c)
	s.Store.ResetHitsMisses()
	unlock()
	s.eachCommand(func(cmd *command.Command) {
		cmd.Stats.Calls.Store(0)
		cmd.Stats.Usec.Store(0)
		cmd.Stats.Rejected.Store(0)
		cmd.Stats.Failed.Store(0)
	})
	s.errMu.Lock()
	s.errStats = map[string]int64{}
	s.errMu.Unlock()
	a := s.admin()
	a.histograms.reset()
	a.metrics.reset()
}

func (s *Server) configRewriteCommand(c *command.Ctx) {
	if err := s.Config.Rewrite(); err != nil {
		c.Error(err.Error())
		return
	}
	s.Log.Noticef("CONFIG REWRITE executed with success.")
	c.OK()
}

func configHelpCommand(c *command.Ctx) {
	replyHelp(c, []string{
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
	})
}

// applyListeners is the apply hook of the port and bind directives (Redis's
// updatePort and applyBind): the server ends up listening on exactly the
// configured TCP addresses. Unlike Redis, which closes its listeners and
// then opens the new ones, it keeps a listener whose address is still
// wanted and opens the others before closing anything, so setting a value
// to itself never fails and a failure leaves the old listeners serving.
// The replies are Redis's; the cause goes to the log, as in Redis. No bind
// address (CONFIG SET bind "") or port 0 means no TCP listener at all.
func (s *Server) applyListeners(name string) error {
	port := int(s.Config.Int("port"))
	var binds []string
	if port != 0 {
		binds = s.Config.Strings("bind")
	}
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	kept := map[net.Listener]bool{}
	var opened []net.Listener
	for _, b := range binds {
		optional := strings.HasPrefix(b, "-")
		host := listenHost(strings.TrimPrefix(b, "-"))
		if l := s.tcpListenerFor(host, port, kept); l != nil {
			kept[l] = true
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			if optional {
				continue
			}
			for _, o := range opened {
				_ = o.Close()
			}
			s.Log.Warningf("Could not create server TCP listening socket %s:%d: %v", b, port, err)
			if name == "port" {
				return errors.New("Unable to listen on this port. Check server logs.")
			}
			return errors.New("Failed to bind to specified addresses.")
		}
		opened = append(opened, l)
	}
	var next []net.Listener
	for _, l := range s.listeners {
		if l == s.unixListener || kept[l] {
			next = append(next, l)
		} else {
			_ = l.Close()
		}
	}
	for _, l := range opened {
		next = append(next, l)
		s.wg.Add(1)
		go s.acceptLoop(l)
	}
	s.listeners = next
	return nil
}

// listenHost maps a bind address to the host net.Listen takes, as
// openListeners does: "*" is every address, "::*" every IPv6 address.
func listenHost(b string) string {
	switch b {
	case "*":
		return ""
	case "::*":
		return "::"
	}
	return b
}

// tcpListenerFor returns the open TCP listener (not in skip) already
// bound to host:port, or nil. Wildcard addresses match each other.
func (s *Server) tcpListenerFor(host string, port int, skip map[net.Listener]bool) net.Listener {
	var ip net.IP
	if host != "" {
		if ip = net.ParseIP(host); ip == nil {
			return nil // a name: let net.Listen resolve it
		}
	}
	for _, l := range s.listeners {
		a, ok := l.Addr().(*net.TCPAddr)
		if !ok || skip[l] || a.Port != port {
			continue
		}
		if (ip == nil || ip.IsUnspecified()) && a.IP.IsUnspecified() || ip != nil && ip.Equal(a.IP) {
			return l
		}
	}
	return nil
}
