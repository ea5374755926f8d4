package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testCA is a throwaway certificate authority for TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "basket test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate for 127.0.0.1 and localhost, usable by a
// server and a client.
func (ca *testCA) issue(t *testing.T, serial int64) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	c, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writePEMPair(t *testing.T, dir string, c tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600)
	keyDER, _ := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// startTLSProxy terminates TLS on ln and forwards each connection to
// target, which stands in for a broker with a TLS listener.
func startTLSProxy(t *testing.T, ln net.Listener, target string) {
	t.Helper()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
}

// TestTLS_ClientFlags runs commands through a TLS-terminating proxy in
// front of the broker, which advertises the proxy's address: verified
// against --tls-ca, with a client certificate the proxy requires, and the
// failures a wrong setup gives.
func TestTLS_ClientFlags(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, ca.pem, 0o600)
	clientCert, clientKey := writePEMPair(t, dir, ca.issue(t, 3))
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{ca.issue(t, 2)}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool,
	})
	if err != nil {
		t.Fatal(err)
	}
	proxy := ln.Addr().String()
	b := startTestBroker(t, "advertised.listeners=PLAINTEXT://"+proxy)
	startTLSProxy(t, ln, b.addr)

	run := func(stdin string, args ...string) cliResult {
		return runCLI(t, stdin, append(args, "-b", proxy, "--timeout", "5s")...)
	}
	ok := []string{"--tls-ca", caFile, "--tls-cert", clientCert, "--tls-key", clientKey}
	if r := run("", append([]string{"topic", "create", "orders"}, ok...)...); r.code != 0 {
		t.Fatalf("create over TLS: %s", r.stderr)
	}
	if r := run("a\nb\n", append([]string{"produce", "orders"}, ok...)...); r.code != 0 {
		t.Fatalf("produce over TLS: %s", r.stderr)
	}
	if r := run("", append([]string{"consume", "orders", "--from-beginning", "-n", "2"}, ok...)...); r.code != 0 || r.stdout != "a\nb\n" {
		t.Fatalf("consume over TLS: %q %s", r.stdout, r.stderr)
	}
	if r := run("", "topic", "list", "--tls-insecure-skip-verify", "--tls-cert", clientCert, "--tls-key", clientKey); r.code != 0 {
		t.Errorf("--tls-insecure-skip-verify: %s", r.stderr)
	}

	expectFailure(t, run("", "topic", "list", "--tls", "--tls-cert", clientCert, "--tls-key", clientKey),
		"cannot reach "+proxy+": TLS: the broker's certificate is not signed by a trusted CA (see --tls-ca)", nil)
	expectFailure(t, run("", "topic", "list", "--tls-ca", caFile, "--tls-server-name", "other.example", "--tls-cert", clientCert, "--tls-key", clientKey),
		"(see --tls-server-name)", nil)
	expectFailure(t, run("", "topic", "list", "--tls-ca", caFile), // no client certificate
		"cannot reach "+proxy+": remote error: tls: certificate required (see --tls-cert and --tls-key)", nil)
	expectFailure(t, run("", "topic", "list", "--tls-ca", filepath.Join(dir, "missing.pem")), "--tls-ca: open", nil)
	expectFailure(t, run("", "topic", "list", "--tls-ca", clientKey), "no PEM certificates", nil)
	expectFailure(t, run("", "topic", "list", "--tls-cert", clientCert), "--tls-cert and --tls-key go together", nil)
	// TLS to a plaintext listener.
	r := runCLI(t, "", "topic", "list", "-b", b.addr, "--tls-insecure-skip-verify", "--timeout", "3s")
	expectFailure(t, r, "cannot reach "+b.addr+": broker closed the connection", nil)
}
