package tlsconf_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/youmark/pkcs8"

	"github.com/corvid-db/corvid/internal/testutil"
	"github.com/corvid-db/corvid/internal/tlsconf"
)

func settings(f *testutil.TLSFiles) tlsconf.Settings {
	return tlsconf.Settings{CertFile: f.ServerCert, KeyFile: f.ServerKey, CACertFile: f.CACert,
		AuthClients: "yes", SessionCaching: true}
}

// handshake runs a handshake between server and client configurations
// over a socket pair and returns the client's state or the first error.
func handshake(t *testing.T, srv, cli *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srvErr := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		tc := tls.Server(c, srv)
		err = tc.Handshake()
		if err == nil {
			_, err = tc.Write([]byte("+PONG\r\n")) // TLS 1.3 clients learn of a refusal on their first read
		}
		srvErr <- err
	}()
	c, err := tls.Dial("tcp", l.Addr().String(), cli)
	if err != nil {
		<-srvErr
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	buf := make([]byte, 7)
	if _, err := c.Read(buf); err != nil {
		<-srvErr
		return tls.ConnectionState{}, err
	}
	return c.ConnectionState(), <-srvErr
}

func TestMutualTLSAndAuthClients(t *testing.T) {
	f := testutil.TLSCerts(t)
	cfg, err := tlsconf.Load(settings(f))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := handshake(t, cfg.Server, f.ClientConfig(t, true)); err != nil || st.Version != tls.VersionTLS13 {
		t.Fatalf("a client with a certificate: %v (version %x)", err, st.Version)
	}
	if _, err := handshake(t, cfg.Server, f.ClientConfig(t, false)); err == nil {
		t.Fatal("tls-auth-clients yes accepted a client without a certificate")
	}
	stranger := f.ClientConfig(t, false)
	c, err := tls.LoadX509KeyPair(f.OtherClientCert, f.OtherClientKey)
	if err != nil {
		t.Fatal(err)
	}
	stranger.Certificates = []tls.Certificate{c}
	if _, err := handshake(t, cfg.Server, stranger); err == nil {
		t.Fatal("a certificate of another CA was accepted")
	}
	for _, mode := range []string{"optional", "no"} {
		s := settings(f)
		s.AuthClients = mode
		cfg, err := tlsconf.Load(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := handshake(t, cfg.Server, f.ClientConfig(t, false)); err != nil {
			t.Fatalf("tls-auth-clients %s refused a client without a certificate: %v", mode, err)
		}
	}
}

func TestProtocolsAndCiphers(t *testing.T) {
	f := testutil.TLSCerts(t)
	s := settings(f)
	s.Protocols = "TLSv1.2"
	cfg, err := tlsconf.Load(s)
	if err != nil {
		t.Fatal(err)
	}
	cli := f.ClientConfig(t, true)
	if st, err := handshake(t, cfg.Server, cli); err != nil || st.Version != tls.VersionTLS12 {
		t.Fatalf("TLSv1.2 only: %v %x", err, st.Version)
	}
	cli13 := f.ClientConfig(t, true)
	cli13.MinVersion = tls.VersionTLS13
	if _, err := handshake(t, cfg.Server, cli13); err == nil {
		t.Fatal("a TLS 1.3-only client got through TLSv1.2-only")
	}
	s.Ciphers = "DEFAULT:-ECDHE-ECDSA-AES128-GCM-SHA256"
	if cfg, err = tlsconf.Load(s); err != nil {
		t.Fatal(err)
	}
	one := f.ClientConfig(t, true)
	one.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	if _, err := handshake(t, cfg.Server, one); err == nil {
		t.Fatal("a suite removed by tls-ciphers was negotiated")
	}
	one.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}
	if st, err := handshake(t, cfg.Server, one); err != nil || st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
		t.Fatalf("a suite left by tls-ciphers: %v", err)
	}
	for _, bad := range []tlsconf.Settings{
		func() tlsconf.Settings { x := settings(f); x.Protocols = "SSLv3"; return x }(),
		func() tlsconf.Settings { x := settings(f); x.Ciphers = "NOSUCH:-ALL"; return x }(),
		func() tlsconf.Settings { x := settings(f); x.CipherSuites = "TLS_NOSUCH"; return x }(),
		func() tlsconf.Settings { x := settings(f); x.CACertFile = ""; return x }(),
		func() tlsconf.Settings { x := settings(f); x.KeyFile = f.ClientKey; return x }(),
	} {
		if _, err := tlsconf.Load(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// An encrypted key (PKCS#8, as OpenSSL 3 writes it) needs
// tls-key-file-pass.
func TestEncryptedKey(t *testing.T) {
	f := testutil.TLSCerts(t)
	b, _ := os.ReadFile(f.ServerKey)
	block, _ := pem.Decode(b)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := pkcs8.MarshalPrivateKey(key, []byte("1234"), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.Dir, "server.key.encrypted")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: enc}), 0o600)
	s := settings(f)
	s.KeyFile = path
	if _, err := tlsconf.Load(s); err == nil || !strings.Contains(err.Error(), "tls-key-file-pass") {
		t.Fatalf("without the pass: %v", err)
	}
	s.KeyFilePass = "1234"
	if _, err := tlsconf.Load(s); err != nil {
		t.Fatal(err)
	}
}

// The client side (replication) verifies the peer's chain but not its
// name, as Redis's replicas do.
func TestClientVerifiesChain(t *testing.T) {
	f := testutil.TLSCerts(t)
	cfg, err := tlsconf.Load(settings(f))
	if err != nil {
		t.Fatal(err)
	}
	cli := cfg.Client.Clone()
	if _, err := handshake(t, cfg.Server, cli); err != nil {
		t.Fatalf("the server's own client config: %v", err)
	}
	s := settings(f)
	s.CertFile, s.KeyFile = f.OtherClientCert, f.OtherClientKey // a server the CA did not sign
	other, err := tlsconf.Load(s)
	if err != nil {
		t.Fatal(err)
	}
	other.Server.ClientAuth = tls.NoClientCert
	if _, err := handshake(t, other.Server, cfg.Client.Clone()); err == nil {
		t.Fatal("a server certificate of another CA was accepted")
	}
}
