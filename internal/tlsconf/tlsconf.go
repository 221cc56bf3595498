// Package tlsconf turns Redis's tls-* directives into crypto/tls
// configurations: one for the TLS port (the server side, with client
// certificates as tls-auth-clients says) and one for the connections the
// server makes (a replica to its primary with tls-replication), as
// Redis's tlsConfigure builds its two OpenSSL contexts.
//
// What OpenSSL lets Redis tune and Go's crypto/tls does not, and how it
// is taken:
//   - tls-ciphers names TLS 1.2 suites in OpenSSL's cipher-string syntax
//     ("DEFAULT:-AES128-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"); the
//     names of the suites Go implements are mapped, the keywords DEFAULT,
//     ALL, HIGH and the '!', '-', '+' operators are understood, and a list
//     that selects nothing is refused, as OpenSSL refuses it.
//   - tls-ciphersuites names TLS 1.3 suites: Go always offers all three
//     and chooses by the hardware, so names are checked and otherwise have
//     no effect.
//   - tls-prefer-server-ciphers: Go's server always chooses the suite by
//     its own order (since Go 1.17); the directive is accepted.
//   - tls-session-caching: Go resumes sessions with stateless tickets,
//     which "no" disables; tls-session-cache-size and -timeout size a
//     stateful cache Go does not have.
//   - Peer certificates are verified against tls-ca-cert-file and
//     tls-ca-cert-dir without a host name check, as OpenSSL's
//     SSL_VERIFY_PEER does for Redis.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/youmark/pkcs8"
)

// Settings are the tls-* directives.
type Settings struct {
	CertFile, KeyFile, KeyFilePass                   string
	ClientCertFile, ClientKeyFile, ClientKeyFilePass string
	CACertFile, CACertDir                            string
	// AuthClients is tls-auth-clients: "yes", "no" or "optional".
	AuthClients    string
	Protocols      string // tls-protocols: "TLSv1.2 TLSv1.3"; empty: both
	Ciphers        string // tls-ciphers (TLS 1.2)
	CipherSuites   string // tls-ciphersuites (TLS 1.3)
	SessionCaching bool
}

// Configs are the two sides built from one Settings.
type Configs struct {
	// Server is for connections accepted on the TLS port.
	Server *tls.Config
	// Client is for the connections the server makes (replication).
	Client *tls.Config
}

// Load builds the configurations, reading the certificates and keys.
func Load(s Settings) (*Configs, error) {
	if s.CertFile == "" || s.KeyFile == "" {
		return nil, errors.New("tls-cert-file and tls-key-file are required")
	}
	if s.CACertFile == "" && s.CACertDir == "" {
		return nil, errors.New("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-port are used!")
	}
	cert, err := loadKeyPair(s.CertFile, s.KeyFile, s.KeyFilePass)
	if err != nil {
		return nil, err
	}
	clientCert := cert
	if s.ClientCertFile != "" {
		if clientCert, err = loadKeyPair(s.ClientCertFile, s.ClientKeyFile, s.ClientKeyFilePass); err != nil {
			return nil, err
		}
	}
	pool, err := loadCAs(s.CACertFile, s.CACertDir)
	if err != nil {
		return nil, err
	}
	minV, maxV, err := parseProtocols(s.Protocols)
	if err != nil {
		return nil, err
	}
	suites, err := parseCiphers(s.Ciphers)
	if err != nil {
		return nil, err
	}
	if err := checkCipherSuites(s.CipherSuites); err != nil {
		return nil, err
	}
	srv := &tls.Config{
		Certificates:           []tls.Certificate{cert},
		ClientCAs:              pool,
		MinVersion:             minV,
		MaxVersion:             maxV,
		CipherSuites:           suites,
		SessionTicketsDisabled: !s.SessionCaching,
	}
	switch strings.ToLower(s.AuthClients) {
	case "", "yes":
		srv.ClientAuth = tls.RequireAndVerifyClientCert
	case "optional":
		srv.ClientAuth = tls.VerifyClientCertIfGiven
	case "no":
		srv.ClientAuth = tls.NoClientCert
	default:
		return nil, fmt.Errorf("invalid tls-auth-clients %q", s.AuthClients)
	}
	cli := &tls.Config{
		Certificates: []tls.Certificate{clientCert},
		MinVersion:   minV,
		MaxVersion:   maxV,
		CipherSuites: suites,
		// The chain is verified below, without a host name: Redis's
		// replicas name their primary by address.
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: verifyChain(pool),
	}
	return &Configs{Server: srv, Client: cli}, nil
}

// verifyChain verifies the peer's chain against pool (any host name).
func verifyChain(pool *x509.CertPool) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("tls: the peer sent no certificate")
		}
		certs := make([]*x509.Certificate, len(raw))
		for i, b := range raw {
			c, err := x509.ParseCertificate(b)
			if err != nil {
				return err
			}
			certs[i] = c
		}
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		return err
	}
}

// loadKeyPair reads a certificate and its key, decrypting the key with
// pass when it is encrypted (PKCS#8, or the traditional PEM encryption).
func loadKeyPair(certFile, keyFile, pass string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("Failed to load certificate: %s: %w", certFile, err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("Failed to load private key: %s: %w", keyFile, err)
	}
	if keyPEM, err = decryptKey(keyPEM, pass); err != nil {
		return tls.Certificate{}, fmt.Errorf("Failed to load private key: %s: %w", keyFile, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("Failed to load certificate %s with key %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// decryptKey returns keyPEM with its key decrypted, as PKCS#8 PEM.
func decryptKey(keyPEM []byte, pass string) ([]byte, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("no PEM data")
	}
	var der []byte
	switch {
	case block.Type == "ENCRYPTED PRIVATE KEY":
		if pass == "" {
			return nil, errors.New("the key is encrypted and tls-key-file-pass is not set")
		}
		key, err := pkcs8.ParsePKCS8PrivateKey(block.Bytes, []byte(pass))
		if err != nil {
			return nil, err
		}
		if der, err = x509.MarshalPKCS8PrivateKey(key); err != nil {
			return nil, err
		}
	case x509.IsEncryptedPEMBlock(block): //nolint:staticcheck // the traditional format OpenSSL still writes with -traditional
		if pass == "" {
			return nil, errors.New("the key is encrypted and tls-key-file-pass is not set")
		}
		plain, err := x509.DecryptPEMBlock(block, []byte(pass)) //nolint:staticcheck // see above
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: plain}), nil
	default:
		return keyPEM, nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// loadCAs reads the CA certificates of file and of every file in dir.
func loadCAs(file, dir string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("Failed to configure CA certificate(s) file/directory: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("Failed to configure CA certificate(s) file/directory: no certificate in %s", file)
		}
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("Failed to configure CA certificate(s) file/directory: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				pool.AppendCertsFromPEM(b)
			}
		}
	}
	return pool, nil
}

// parseProtocols reads tls-protocols: the versions enabled, from the
// lowest to the highest (Go cannot leave a hole between them).
func parseProtocols(s string) (minV, maxV uint16, err error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for _, f := range fields {
		var v uint16
		switch strings.ToLower(f) {
		case "tlsv1":
			v = tls.VersionTLS10
		case "tlsv1.1":
			v = tls.VersionTLS11
		case "tlsv1.2":
			v = tls.VersionTLS12
		case "tlsv1.3":
			v = tls.VersionTLS13
		default:
			return 0, 0, fmt.Errorf("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
		}
		if minV == 0 || v < minV {
			minV = v
		}
		maxV = max(maxV, v)
	}
	return minV, maxV, nil
}

// opensslNames maps OpenSSL's names of the TLS 1.2 suites Go implements.
var opensslNames = map[string]uint16{
	"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-CHACHA20-POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-RSA-CHACHA20-POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-ECDSA-AES128-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	"ECDHE-RSA-AES128-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	"ECDHE-ECDSA-AES256-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-AES256-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	"ECDHE-ECDSA-AES128-SHA256":     tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	"ECDHE-RSA-AES128-SHA256":       tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	"AES128-GCM-SHA256":             tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	"AES256-GCM-SHA384":             tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	"AES128-SHA256":                 tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	"AES128-SHA":                    tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	"AES256-SHA":                    tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-DES-CBC3-SHA":        tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	"DES-CBC3-SHA":                  tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
}

// keywordSuites expands an OpenSSL keyword to suites, in Go's order.
func keywordSuites(word string) ([]uint16, bool) {
	switch strings.ToUpper(word) {
	case "DEFAULT", "HIGH":
		var out []uint16
		for _, s := range tls.CipherSuites() {
			if !s.Insecure && supportsTLS12(s) {
				out = append(out, s.ID)
			}
		}
		return out, true
	case "ALL", "COMPLEMENTOFDEFAULT":
		var out []uint16
		for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			if supportsTLS12(s) {
				out = append(out, s.ID)
			}
		}
		return out, true
	}
	return nil, false
}

func supportsTLS12(s *tls.CipherSuite) bool {
	for _, v := range s.SupportedVersions {
		if v == tls.VersionTLS12 {
			return true
		}
	}
	return false
}

// parseCiphers reads an OpenSSL cipher string into the TLS 1.2 suites it
// selects (nil: Go's defaults).
func parseCiphers(spec string) ([]uint16, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	var list []uint16
	banned := map[uint16]bool{}
	for _, item := range strings.FieldsFunc(spec, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		op := byte(0)
		if c := item[0]; c == '!' || c == '-' || c == '+' {
			op, item = c, item[1:]
		}
		var ids []uint16
		if kw, ok := keywordSuites(item); ok {
			ids = kw
		} else if id, ok := opensslNames[strings.ToUpper(item)]; ok {
			ids = []uint16{id}
		} else {
			continue // a name Go does not implement selects nothing, as in OpenSSL
		}
		switch op {
		case '!':
			for _, id := range ids {
				banned[id] = true
			}
			list = removeSuites(list, ids)
		case '-':
			list = removeSuites(list, ids)
		case '+':
			moved := make([]uint16, 0, len(ids))
			for _, id := range ids {
				if containsSuite(list, id) {
					moved = append(moved, id)
				}
			}
			list = append(removeSuites(list, moved), moved...)
		default:
			for _, id := range ids {
				if !banned[id] && !containsSuite(list, id) {
					list = append(list, id)
				}
			}
		}
	}
	if len(list) == 0 {
		return nil, errors.New("Failed to configure ciphers: no cipher match")
	}
	return list, nil
}

func containsSuite(list []uint16, id uint16) bool {
	for _, x := range list {
		if x == id {
			return true
		}
	}
	return false
}

func removeSuites(list, ids []uint16) []uint16 {
	out := list[:0]
	for _, x := range list {
		if !containsSuite(ids, x) {
			out = append(out, x)
		}
	}
	return out
}

// checkCipherSuites checks tls-ciphersuites' names (TLS 1.3).
func checkCipherSuites(spec string) error {
	for _, name := range strings.FieldsFunc(spec, func(r rune) bool { return r == ':' }) {
		switch name {
		case "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
			"TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256":
		default:
			return errors.New("Failed to configure ciphersuites: no cipher match")
		}
	}
	return nil
}
