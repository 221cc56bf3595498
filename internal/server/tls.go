package server

import (
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/corvid-db/corvid/internal/tlsconf"
)

// TLS (internal/tlsconf builds the configurations): the TLS port's
// listeners, whose connections are served by a goroutine each (the event
// loops read plain sockets), the replica's connection to its primary
// with tls-replication, and CONFIG SET of the tls-* directives, which
// reloads certificates and settings for the handshakes that follow while
// established connections go on.

// tlsDirectives are the directives a TLS configuration is built from.
var tlsDirectives = []string{"tls-cert-file", "tls-key-file", "tls-key-file-pass",
	"tls-client-cert-file", "tls-client-key-file", "tls-client-key-file-pass",
	"tls-ca-cert-file", "tls-ca-cert-dir", "tls-auth-clients", "tls-protocols",
	"tls-ciphers", "tls-ciphersuites", "tls-prefer-server-ciphers", "tls-session-caching",
	"tls-dh-params-file"}

// tlsWanted reports whether the configuration asks for TLS at all.
func (s *Server) tlsWanted() bool {
	return s.Config.Int("tls-port") != 0 || s.Config.Bool("tls-replication") || s.Config.Bool("tls-cluster")
}

// loadTLS builds the TLS configuration from the directives and makes it
// the one new handshakes use.
func (s *Server) loadTLS() error {
	authClients := "yes"
	switch s.Config.Int("tls-auth-clients") {
	case 0:
		authClients = "no"
	case 2:
		authClients = "optional"
	}
	cfg, err := tlsconf.Load(tlsconf.Settings{
		CertFile:          s.Config.String("tls-cert-file"),
		KeyFile:           s.Config.String("tls-key-file"),
		KeyFilePass:       s.Config.String("tls-key-file-pass"),
		ClientCertFile:    s.Config.String("tls-client-cert-file"),
		ClientKeyFile:     s.Config.String("tls-client-key-file"),
		ClientKeyFilePass: s.Config.String("tls-client-key-file-pass"),
		CACertFile:        s.Config.String("tls-ca-cert-file"),
		CACertDir:         s.Config.String("tls-ca-cert-dir"),
		AuthClients:       authClients,
		Protocols:         s.Config.String("tls-protocols"),
		Ciphers:           s.Config.String("tls-ciphers"),
		CipherSuites:      s.Config.String("tls-ciphersuites"),
		SessionCaching:    s.Config.Bool("tls-session-caching"),
	})
	if err != nil {
		return err
	}
	s.tlsConfigs.Store(cfg)
	return nil
}

// initTLS loads the TLS configuration at start when it is wanted (a
// failure stops the start, as in Redis) and follows CONFIG SET.
func (s *Server) initTLS() error {
	if s.tlsWanted() {
		if err := s.loadTLS(); err != nil {
			s.Log.Warningf("%v", err)
			return errors.New("Failed to configure TLS. Check logs for more info.")
		}
	}
	reload := func(string) error {
		if !s.tlsWanted() && s.tlsConfigs.Load() == nil {
			return nil // checked when TLS is turned on
		}
		if err := s.loadTLS(); err != nil {
			s.Log.Warningf("%v", err)
			return errors.New("Unable to update TLS configuration. Check server logs.")
		}
		return nil
	}
	for _, name := range tlsDirectives {
		s.Config.OnChange(name, reload)
	}
	s.Config.OnChange("tls-replication", reload)
	s.Config.OnChange("tls-port", s.applyTLSListeners)
	return nil
}

// tlsListenerConfig is the TLS port's configuration: the current one at
// each handshake.
func (s *Server) tlsListenerConfig() *tls.Config {
	return &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		cfg := s.tlsConfigs.Load()
		if cfg == nil {
			return nil, errors.New("TLS is not configured")
		}
		return cfg.Server, nil
	}}
}

// openTLSListeners listens on tls-port at every bind address.
func (s *Server) openTLSListeners() ([]net.Listener, error) {
	port := int(s.Config.Int("tls-port"))
	if port == 0 {
		return nil, nil
	}
	if s.tlsConfigs.Load() == nil {
		if err := s.loadTLS(); err != nil {
			s.Log.Warningf("%v", err)
			return nil, errors.New("Failed to configure TLS. Check logs for more info.")
		}
	}
	binds := s.bindAddresses()
	var ls []net.Listener
	for _, b := range binds {
		optional := strings.HasPrefix(b, "-")
		host := listenHost(strings.TrimPrefix(b, "-"))
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			if optional {
				continue
			}
			for _, o := range ls {
				_ = o.Close()
			}
			s.Log.Warningf("Warning: Could not create server TLS listening socket %s:%d: %s", b, port, listenErrorText(err))
			return nil, errors.New("Failed listening on port " + strconv.Itoa(port) + " (tls), aborting.")
		}
		ls = append(ls, tls.NewListener(l, s.tlsListenerConfig()))
	}
	return ls, nil
}

// applyTLSListeners follows CONFIG SET tls-port: the TLS listeners are
// replaced (connections already accepted stay).
func (s *Server) applyTLSListeners(string) error {
	ls, err := s.openTLSListeners()
	if err != nil {
		return errors.New("Unable to listen on this port. Check server logs.")
	}
	s.listenMu.Lock()
	old := s.tlsListeners
	s.tlsListeners = ls
	s.listenMu.Unlock()
	for _, l := range old {
		_ = l.Close()
	}
	for _, l := range ls {
		s.wg.Add(1)
		go s.acceptLoop(l)
	}
	return nil
}

// TLSAddr returns the first TLS listener's address (nil without one).
func (s *Server) TLSAddr() net.Addr {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if len(s.tlsListeners) == 0 {
		return nil
	}
	return s.tlsListeners[0].Addr()
}

// dialPrimary wraps a replica's connection to its primary in TLS when
// tls-replication is on.
func (s *Server) dialPrimary(conn net.Conn) net.Conn {
	if !s.Config.Bool("tls-replication") {
		return conn
	}
	cfg := s.tlsConfigs.Load()
	if cfg == nil {
		return conn // refused by the primary's TLS port, which logs it
	}
	return tls.Client(conn, cfg.Client)
}
