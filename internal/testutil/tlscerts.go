package testutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TLSFiles are certificates a test made: a CA, a server certificate and
// a client certificate it signed, and a second CA that signed nothing
// the server trusts (for refused clients), as PEM files.
type TLSFiles struct {
	Dir                             string
	CACert, CAKey                   string
	ServerCert, ServerKey           string
	ClientCert, ClientKey           string
	OtherClientCert, OtherClientKey string // signed by another CA
}

// TLSCerts writes a fresh set of certificates to a temporary directory.
func TLSCerts(t testing.TB) *TLSFiles {
	t.Helper()
	dir := t.TempDir()
	f := &TLSFiles{Dir: dir}
	ca, caKey := makeCA(t, "Corvid Test CA")
	f.CACert, f.CAKey = writePair(t, dir, "ca", ca, caKey)
	srv, srvKey := makeLeaf(t, ca, caKey, "server", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	f.ServerCert, f.ServerKey = writePair(t, dir, "server", srv, srvKey)
	cli, cliKey := makeLeaf(t, ca, caKey, "client", x509.ExtKeyUsageClientAuth)
	f.ClientCert, f.ClientKey = writePair(t, dir, "client", cli, cliKey)
	other, otherKey := makeCA(t, "Somebody Else's CA")
	stranger, strangerKey := makeLeaf(t, other, otherKey, "stranger", x509.ExtKeyUsageClientAuth)
	f.OtherClientCert, f.OtherClientKey = writePair(t, dir, "stranger", stranger, strangerKey)
	return f
}

// ClientConfig is a client configuration trusting the CA, presenting the
// client certificate (none when withCert is false).
func (f *TLSFiles) ClientConfig(t testing.TB, withCert bool) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	b, err := os.ReadFile(f.CACert)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(b)
	cfg := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	if withCert {
		c, err := tls.LoadX509KeyPair(f.ClientCert, f.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg
}

func makeCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	return sign(t, tmpl, nil, nil)
}

func makeLeaf(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, usage ...x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: usage,
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	return sign(t, tmpl, ca, caKey)
}

// sign makes a key and a certificate of tmpl (valid for a day) signed by
// parent, or self-signed when parent is nil.
func sign(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func writePair(t testing.TB, dir, name string, cert *x509.Certificate, key *ecdsa.PrivateKey) (certPath, keyPath string) {
	t.Helper()
	certPath = filepath.Join(dir, name+".crt")
	keyPath = filepath.Join(dir, name+".key")
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}
