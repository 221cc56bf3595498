package server

import (
	"crypto/tls"
	"errors"
	"strings"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// Sentinel mode: the server fronting a sentinel, as redis-server runs when
// started as redis-sentinel. The sentinel itself (internal/sentinel) is a
// SentinelService; the server gives it what Redis's server gives its
// sentinel: connections, the protocol, AUTH and the ACLs, pub/sub, and the
// few commands a sentinel answers, which the command table marks Sentinel
// (and SENTINEL itself OnlySentinel), subcommand by subcommand, as Redis's
// command specs do.
//
// The switch happens once, before the server serves: the command table
// becomes a sentinel's (command.Table.SetSentinelMode), so that dispatch,
// COMMAND, and the ACLs know only those commands with no check of their
// own, and the handlers that answer differently in a sentinel (INFO,
// ROLE, PUBLISH) are replaced in the table by their sentinel versions.
// Normal mode pays nothing per command. The few places that still ask
// (SentinelMode) run once per start, shutdown, HELLO or INFO: the start
// loads no RDB or AOF, a shutdown saves nothing, and the log lines carry
// the role character 'X'.
//
// A sentinel's configuration knows it is one (config.SentinelMode: the
// sentinel registered its "sentinel" directive before the file was
// loaded), and New then builds the sentinel's table from the start, so
// the file's rename-command and user directives name a sentinel's
// commands. SetSentinel on a server New built in normal mode (tests)
// switches the table itself, building the ACL users and applying the
// renames again; an error there is Start's.

// SentinelService is the sentinel a server fronts in sentinel mode
// (internal/sentinel implements it).
type SentinelService interface {
	// Command runs SENTINEL <subcommand> ...: c.Args[0] is "sentinel" and
	// c.Cmd the subcommand (arity already checked); it writes the reply
	// to c.W. It runs on the calling connection's goroutine (SENTINEL's
	// subcommands are OwnGoroutine: a slow one holds up only its caller).
	Command(c *command.Ctx)
	// InfoSection returns the body of INFO's "# Sentinel" section:
	// "name:value\r\n" lines, without the header.
	InfoSection() string
	// Role writes ROLE's reply in sentinel mode.
	Role(w *resp.Writer)
}

// SentinelHelloProcessor is implemented by a SentinelService that takes
// the hello messages other sentinels PUBLISH to it: in sentinel mode
// PUBLISH accepts only the channel __sentinel__:hello, whose message goes
// to ProcessHello and is answered 1 (Redis's sentinelPublishCommand); it
// reaches no subscriber. Without it, such messages are answered 1 and
// dropped.
type SentinelHelloProcessor interface {
	ProcessHello(message string)
}

// sentinelState is the sentinel a server fronts, set by SetSentinel
// before Start and only read afterwards.
type sentinelState struct {
	svc   SentinelService
	hello SentinelHelloProcessor // svc's, nil when it takes none
	err   error                  // of the switch in SetSentinel, returned by Start
}

// Replies and names of sentinel mode, in Redis's words.
const (
	sentinelHelloChannel = "__sentinel__:hello"
	errSentinelPublish   = "ERR Only HELLO messages are accepted by Sentinel instances."
	errNoSentinelService = "sentinel mode without a sentinel service: call SetSentinel before Start"
)

// SetSentinel switches the server to sentinel mode, fronting svc. Call it
// after New and before Start (and before LogStartup, whose banner names
// the mode). A configuration error the switch finds (a user directive or
// rename-command naming a command a sentinel lacks) is returned by Start.
func (s *Server) SetSentinel(svc SentinelService) {
	s.sentinel.svc = svc
	s.sentinel.hello, _ = svc.(SentinelHelloProcessor)
	s.Log.setRole(sentinelRoleChar)
	if !s.Table.SentinelMode() {
		s.sentinel.err = s.switchToSentinelTable()
	}
	// The sentinel's versions of the commands that answer differently,
	// found by their declared names (the table may have renamed them).
	for name, h := range map[string]func(*command.Ctx){
		"info":    s.sentinelInfoCommand,
		"role":    s.sentinelRoleCommand,
		"publish": s.sentinelPublishCommand,
	} {
		s.Table.Declared(name).Handler = h
	}
}

// switchToSentinelTable makes the command table a sentinel's when New
// built a normal one: the ACLs are built again from it (the users named
// commands of the other table), and the renames applied again.
func (s *Server) switchToSentinelTable() error {
	s.Table.SetSentinelMode()
	if _, err := s.buildACL(); err != nil {
		return err
	}
	return s.applyRenames()
}

// SentinelMode reports whether the server runs in sentinel mode.
func (s *Server) SentinelMode() bool { return s.Table.SentinelMode() }

// sentinelReady is Start's check: a sentinel's table needs its service,
// and the switch to it must have succeeded.
func (s *Server) sentinelReady() error {
	if !s.SentinelMode() {
		return nil
	}
	if s.sentinel.svc == nil {
		return errors.New(errNoSentinelService)
	}
	return s.sentinel.err
}

// redisMode is the mode INFO (redis_mode), HELLO and the banner report.
func (s *Server) redisMode() string {
	if s.SentinelMode() {
		return "sentinel"
	}
	return "standalone"
}

// Publish delivers message to this server's own subscribers of channel
// and of the patterns matching it, as PUBLISH does, and returns how many
// received it. It is safe from any goroutine: the sentinel announces its
// events (+sdown, +switch-master…) this way.
func (s *Server) Publish(channel, message string) int {
	return int(s.publish(kindChannel, []byte(channel), []byte(message)))
}

// OutgoingTLS returns the client side of the TLS configuration, for the
// connections this server opens to other servers, when tls-replication is
// yes (the configuration a replica uses to reach a TLS primary); nil
// otherwise. It is a copy, which the caller may change (ServerName).
func (s *Server) OutgoingTLS() *tls.Config {
	if !s.Config.Bool("tls-replication") {
		return nil
	}
	cfg := s.tlsConfigs.Load()
	if cfg == nil || cfg.Client == nil {
		return nil
	}
	return cfg.Client.Clone()
}

// sentinelCommands is SENTINEL, which exists in sentinel mode only, and
// its subcommands; the service runs them all (sentinelCommand). Arity,
// flags and versions are Redis 7.2's. The subcommands are OwnGoroutine so
// that one the sentinel takes time over (FAILOVER, FLUSHCONFIG's fsync,
// a lock its timer holds) holds up only its caller, not an event loop's
// other connections.
func (s *Server) sentinelCommands() []*command.Command {
	const (
		only  = command.Sentinel | command.OnlySentinel | command.NoKeyspace
		subF  = command.Admin | command.OwnGoroutine | only
		helpF = command.Loading | command.Stale | only
	)
	sub := func(name string, arity int, since, summary string) *command.Command {
		return &command.Command{Name: "sentinel|" + name, Arity: arity, Flags: subF, Group: "sentinel",
			Since: since, Summary: summary, Handler: s.sentinelCommand}
	}
	help := sub("help", 2, "6.2.0", "Describes the SENTINEL subcommands.")
	help.Flags = helpF
	return []*command.Command{
		{Name: "sentinel", Arity: -2, Flags: command.Admin | only, Group: "sentinel", Since: "2.8.4",
			Summary: "A container for the commands of Redis Sentinel.",
			Subcommands: []*command.Command{
				sub("ckquorum", 3, "2.8.4", "Checks whether the sentinels reachable now can authorize a failover of a master."),
				sub("config", -4, "6.2.0", "Reads or changes the sentinel's own settings."),
				sub("debug", -2, "7.0.0", "Reads or changes the sentinel's tunable timings."),
				sub("failover", 3, "2.8.4", "Starts a failover of a master without asking the other sentinels."),
				sub("flushconfig", 2, "2.8.4", "Writes the sentinel's state to its configuration file."),
				sub("get-master-addr-by-name", 3, "2.8.4", "Returns the address of the current master of a monitored group."),
				help,
				sub("info-cache", -3, "3.2.0", "Returns the INFO replies the sentinel last got from the instances of masters."),
				sub("is-master-down-by-addr", 6, "2.8.4", "Asks this sentinel whether it sees a master as down, and for its vote."),
				sub("master", 3, "2.8.4", "Returns the state of one monitored master."),
				sub("masters", 2, "2.8.4", "Returns the state of every monitored master."),
				sub("monitor", 6, "2.8.4", "Starts monitoring a master."),
				sub("myid", 2, "6.2.0", "Returns the sentinel's ID."),
				sub("pending-scripts", 2, "2.8.4", "Returns the scripts waiting to run or running."),
				sub("remove", 3, "2.8.4", "Stops monitoring a master."),
				sub("replicas", 3, "5.0.0", "Returns the state of a master's replicas."),
				sub("reset", 3, "2.8.4", "Forgets the learned state of the masters whose names match a pattern."),
				sub("sentinels", 3, "2.8.4", "Returns the other sentinels monitoring a master."),
				sub("set", -5, "2.8.4", "Changes the settings of a monitored master."),
				sub("simulate-failure", -3, "3.2.0", "Makes the sentinel fail on purpose at a given point, for tests."),
				sub("slaves", 3, "2.8.0", "Returns the state of a master's replicas (the old name of REPLICAS)."),
			}},
	}
}

func (s *Server) sentinelCommand(c *command.Ctx) { s.sentinel.svc.Command(c) }

func (s *Server) sentinelRoleCommand(c *command.Ctx) { s.sentinel.svc.Role(c.W) }

// sentinelPublishCommand is PUBLISH in sentinel mode: only hello messages
// from other sentinels, for the service (see SentinelHelloProcessor).
func (s *Server) sentinelPublishCommand(c *command.Ctx) {
	if string(c.Args[1]) != sentinelHelloChannel {
		c.Error(errSentinelPublish)
		return
	}
	if h := s.sentinel.hello; h != nil {
		h.ProcessHello(string(c.Args[2]))
	}
	c.W.Int(1)
}

// sentinelInfoSections are the sections INFO has in sentinel mode, in
// Redis's order (sentinelInfoCommand): all of them are the default, and
// "all" and "everything" mean them too. The others are ignored when asked
// for.
var sentinelInfoSections = [...]string{"server", "clients", "cpu", "stats", "sentinel"}

// parseSentinelInfoArgs is parseInfoArgs for a sentinel: the request for
// the server's sections (genInfo) and whether the sentinel's is asked for.
func parseSentinelInfoArgs(args [][]byte) (r infoRequest, sentinel bool) {
	r = infoRequest{sections: map[string]bool{}}
	every := len(args) == 0
	for _, a := range args {
		switch name := strings.ToLower(string(a)); name {
		case "default", "all", "everything":
			every = true
		default:
			for _, sec := range sentinelInfoSections {
				if name == sec {
					r.sections[name] = true
				}
			}
		}
	}
	if every {
		for _, sec := range sentinelInfoSections {
			r.sections[sec] = true
		}
	}
	sentinel = r.sections["sentinel"]
	delete(r.sections, "sentinel")
	return r, sentinel
}

// sentinelInfoCommand is INFO in sentinel mode: the server's sections a
// sentinel has, then the service's "# Sentinel" section. As Redis's, the
// reply is a plain bulk string in RESP3 too.
func (s *Server) sentinelInfoCommand(c *command.Ctx) {
	s.settleBefore(c)
	r, withSentinel := parseSentinelInfoArgs(c.Args[1:])
	text := s.genInfo(c, r)
	if withSentinel {
		if len(text) > 0 {
			text = append(text, "\r\n"...)
		}
		text = append(text, "# Sentinel\r\n"...)
		text = append(text, s.sentinel.svc.InfoSection()...)
	}
	c.W.Bulk(text)
}
