package main

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/server"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testBroker is an in-process broker for the CLI tests.
type testBroker struct {
	addr    string
	dataDir string
	b       *server.Broker
}

// startTestBroker starts a broker on a free loopback port, configured the
// way basket serve configures one, with a one-partition __consumer_offsets
// and no initial rebalance delay so group tests are quick.
func startTestBroker(t *testing.T, overrides ...string) *testBroker {
	t.Helper()
	dir := t.TempDir()
	bc, err := brokerConfig(serveFlags{dataDir: dir, listen: "127.0.0.1:0", overrides: append([]string{
		"offsets.topic.num.partitions=1", "group.initial.rebalance.delay.ms=0", "basket.log.flush.policy=async",
	}, overrides...)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverConfig(bc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	b, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &testBroker{addr: b.Addr().String(), dataDir: dir, b: b}
}

// cliResult is what one run of the command line printed and returned.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs basket with args, stdin and BASKET_BROKERS unset, as main
// would, with a deadline so a hung command fails the test.
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return runCLIContext(ctx, t, stdin, args...)
}

func runCLIContext(ctx context.Context, t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &out, &errOut)
	return cliResult{out.String(), errOut.String(), code}
}

// mustRun runs basket against b and fails the test unless it succeeds.
func (b *testBroker) mustRun(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	r := runCLI(t, stdin, append(args, "-b", b.addr)...)
	if r.code != 0 {
		t.Fatalf("basket %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// fail runs basket against b, expects exit code 1 and exactly one line on
// stderr containing want, and returns that line.
func (b *testBroker) fail(t *testing.T, want string, stdin string, args ...string) string {
	t.Helper()
	return expectFailure(t, runCLI(t, stdin, append(args, "-b", b.addr)...), want, args)
}

func expectFailure(t *testing.T, r cliResult, want string, args []string) string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if r.code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "basket: ") || !strings.Contains(lines[0], want) {
		t.Fatalf("basket %s: want exit 1 and one stderr line with %q; got exit %d\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), want, r.code, r.stdout, r.stderr)
	}
	return lines[0]
}

var (
	topicIDRe   = regexp.MustCompile(`\b[A-Za-z0-9_-]{22}\b`)
	timestampRe = regexp.MustCompile(`\b1[6-9]\d{11}\b`)
)

// normalize replaces what changes from run to run: the broker's address and
// port, topic and cluster ids, and Unix-millisecond timestamps.
func (b *testBroker) normalize(s string, extra ...string) string {
	host, port, _ := strings.Cut(b.addr, ":")
	r := []string{b.addr, "ADDR", b.dataDir, "DATADIR", b.b.ClusterID(), "CLUSTER-ID"}
	s = strings.NewReplacer(append(r, extra...)...).Replace(s)
	s = regexp.MustCompile(`\b`+regexp.QuoteMeta(port)+`\b`).ReplaceAllString(s, "PORT")
	s = strings.ReplaceAll(s, host, "HOST")
	s = topicIDRe.ReplaceAllString(s, "TOPIC-ID")
	return timestampRe.ReplaceAllString(s, "TIMESTAMP")
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/basket -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended)\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func sortStrings(s []string) { slices.Sort(s) }
