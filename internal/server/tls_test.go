package server_test

import (
	"context"
	"crypto/tls"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/testutil"
)

// freePort returns a port nobody listens on a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startTLS starts a server with a TLS port and the test's certificates.
func startTLS(t *testing.T, f *testutil.TLSFiles, directives ...string) (*testutil.Instance, string) {
	t.Helper()
	port := freePort(t)
	srv := testutil.Start(t, append([]string{"tls-port", strconv.Itoa(port), "tls-cert-file", f.ServerCert,
		"tls-key-file", f.ServerKey, "tls-ca-cert-file", f.CACert}, directives...)...)
	return srv, "127.0.0.1:" + strconv.Itoa(port)
}

func tlsClient(t *testing.T, addr string, cfg *tls.Config) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: cfg, MaxRetries: -1, DialTimeout: 2 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// The TLS port serves TLS 1.3 and 1.2 clients with a certificate, refuses
// clients without one (tls-auth-clients yes) and plain connections, and
// the plain port goes on serving beside it.
func TestTLSPort(t *testing.T) {
	f := testutil.TLSCerts(t)
	srv, addr := startTLS(t, f)
	ctx := context.Background()
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		cfg := f.ClientConfig(t, true)
		cfg.MinVersion, cfg.MaxVersion = v, v
		c := tlsClient(t, addr, cfg)
		if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("TLS %x: %v", v, err)
		}
	}
	if err := tlsClient(t, addr, f.ClientConfig(t, false)).Ping(ctx).Err(); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	plainOnTLS := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ReadTimeout: time.Second, DialTimeout: time.Second})
	defer plainOnTLS.Close()
	if err := plainOnTLS.Ping(ctx).Err(); err == nil {
		t.Fatal("a plain connection was served on the TLS port")
	}
	if v := srv.Client(t).Get(ctx, "k").Val(); v != "v" {
		t.Fatalf("plain port: %q", v)
	}
	// tls-auth-clients no lets clients without certificates in.
	if err := srv.Client(t).ConfigSet(ctx, "tls-auth-clients", "no").Err(); err != nil {
		t.Fatal(err)
	}
	if err := tlsClient(t, addr, f.ClientConfig(t, false)).Ping(ctx).Err(); err != nil {
		t.Fatalf("tls-auth-clients no: %v", err)
	}
}

// CONFIG SET of the certificate applies to new handshakes; a client
// connected before keeps its connection. A bad file is refused and
// changes nothing.
func TestTLSCertificateReload(t *testing.T) {
	f := testutil.TLSCerts(t)
	srv, addr := startTLS(t, f)
	ctx := context.Background()
	admin := srv.Client(t)
	cfg := f.ClientConfig(t, true)
	before := tlsClient(t, addr, cfg)
	before.Options().PoolSize = 1
	if err := before.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	g := testutil.TLSCerts(t) // a new CA, server and client certificate
	err := admin.ConfigSet(ctx, "tls-cert-file", "/nonexistent.crt").Err()
	if err == nil || !strings.Contains(err.Error(), "Unable to update TLS configuration") {
		t.Fatalf("a missing certificate: %v", err)
	}
	if err := admin.Do(ctx, "config", "set", "tls-cert-file", g.ServerCert, "tls-key-file", g.ServerKey,
		"tls-ca-cert-file", g.CACert).Err(); err != nil {
		t.Fatal(err)
	}
	if err := before.Ping(ctx).Err(); err != nil {
		t.Fatalf("the connection made before the reload: %v", err)
	}
	if err := tlsClient(t, addr, f.ClientConfig(t, true)).Ping(ctx).Err(); err == nil {
		t.Fatal("a client trusting only the old CA accepted the new certificate")
	}
	if err := tlsClient(t, addr, g.ClientConfig(t, true)).Ping(ctx).Err(); err != nil {
		t.Fatalf("a client of the new CA: %v", err)
	}
}

// A replica with tls-replication replicates from its primary's TLS port.
func TestTLSReplication(t *testing.T) {
	f := testutil.TLSCerts(t)
	primary, addr := startTLS(t, f)
	replica := testutil.Start(t, "tls-replication", "yes", "tls-cert-file", f.ClientCert,
		"tls-key-file", f.ClientKey, "tls-ca-cert-file", f.CACert)
	ctx := context.Background()
	p := primary.Client(t)
	p.Set(ctx, "before", "1", 0)
	r := replica.Client(t)
	linkReplica(t, r, addr)
	p.Set(ctx, "after", "2", 0)
	testutil.WaitFor(t, 10*time.Second, "the stream over TLS", func() bool {
		return r.Get(ctx, "before").Val() == "1" && r.Get(ctx, "after").Val() == "2"
	})
}

// Only a TLS port (port 0), and redis-cli --tls against it.
func TestTLSOnlyWithRedisCli(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli is not installed")
	}
	f := testutil.TLSCerts(t)
	port := freePort(t)
	srv := testutil.StartWithoutPlainPort(t, "tls-port", strconv.Itoa(port), "tls-cert-file", f.ServerCert,
		"tls-key-file", f.ServerKey, "tls-ca-cert-file", f.CACert)
	if srv.Srv.Addr() == nil || srv.Srv.Addr().(*net.TCPAddr).Port != port {
		t.Fatalf("Addr %v, want the TLS port %d", srv.Srv.Addr(), port)
	}
	out, err := exec.Command(cli, "--tls", "--cacert", f.CACert, "--cert", f.ClientCert, "--key", f.ClientKey,
		"-p", strconv.Itoa(port), "set", "cli", "ok").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Fatalf("redis-cli --tls set: %v %s", err, out)
	}
	out, err = exec.Command(cli, "--tls", "--cacert", f.CACert, "--cert", f.ClientCert, "--key", f.ClientKey,
		"-p", strconv.Itoa(port), "get", "cli").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("redis-cli --tls get: %v %s", err, out)
	}
	out, _ = exec.Command(cli, "--tls", "--cacert", f.CACert, "-p", strconv.Itoa(port), "ping").CombinedOutput()
	if strings.Contains(string(out), "PONG") {
		t.Fatalf("redis-cli without a client certificate was served: %s", out)
	}
}
