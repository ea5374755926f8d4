package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// tlsFlags are the client TLS flags of every client command. TLS is on if
// --tls or any other of them is given.
type tlsFlags struct {
	enable             bool
	caFile             string
	certFile, keyFile  string
	serverName         string
	insecureSkipVerify bool
}

func addTLSFlags(cmd *cobra.Command, t *tlsFlags) {
	fs := cmd.PersistentFlags()
	fs.BoolVar(&t.enable, "tls", false, "connect with TLS, verifying brokers against the system's CAs")
	fs.StringVar(&t.caFile, "tls-ca", "", "PEM file of the CA certificates to verify brokers with (implies --tls)")
	fs.StringVar(&t.certFile, "tls-cert", "", "PEM client certificate for brokers that require one (with --tls-key; implies --tls)")
	fs.StringVar(&t.keyFile, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&t.serverName, "tls-server-name", "", "name to verify the brokers' certificates against (default: the host dialed)")
	fs.BoolVar(&t.insecureSkipVerify, "tls-insecure-skip-verify", false, "do not verify the brokers' certificates (testing only; implies --tls)")
}

// config returns the TLS configuration, or nil for plaintext.
func (t *tlsFlags) config() (*tls.Config, error) {
	if !t.enable && t.caFile == "" && t.certFile == "" && t.keyFile == "" && t.serverName == "" && !t.insecureSkipVerify {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.serverName, InsecureSkipVerify: t.insecureSkipVerify}
	if t.caFile != "" {
		pem, err := os.ReadFile(t.caFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificates in it", t.caFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case t.certFile != "" && t.keyFile != "":
		cert, err := tls.LoadX509KeyPair(t.certFile, t.keyFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case t.certFile != "" || t.keyFile != "":
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	return cfg, nil
}
