package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// buildBasket compiles the binary once per test run.
func buildBasket(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "basket")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServe_RejectsBadConfigWithOneLine(t *testing.T) {
	bin := buildBasket(t)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"unknown key":  {[]string{"--override", "no.such.key=1"}, `unknown configuration "no.such.key"`},
		"bad value":    {[]string{"--override", "log.segment.bytes=abc"}, "log.segment.bytes"},
		"bad override": {[]string{"--override", "novalue"}, "novalue"},
		"missing file": {[]string{"--config", "/nonexistent/server.properties"}, "server.properties"},
		"bad data dir": {[]string{"--data-dir", "/proc/basket-cannot-write"}, "basket-cannot-write"},
		"bad listen":   {[]string{"--listen", "nohostport"}, "listeners"},
		"two log dirs": {[]string{"--override", "log.dirs=/tmp/a,/tmp/b"}, "log.dirs"},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"serve", "--listen", freePort(t), "--data-dir", t.TempDir()}, tc.args...)...)
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, output:\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "basket: ") || !strings.Contains(last, tc.want) {
				t.Fatalf("error line %q does not name %q", last, tc.want)
			}
		})
	}
}

func TestServe_PortInUseExitsOne(t *testing.T) {
	bin := buildBasket(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out, err := exec.Command(bin, "serve", "--listen", ln.Addr().String(), "--data-dir", t.TempDir()).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "address already in use") {
		t.Fatalf("exit %v, output:\n%s", err, out)
	}
}

// TestServe_RunsAndStopsCleanly starts the real binary, produces and
// consumes with kgo, and stops it with SIGTERM.
func TestServe_RunsAndStopsCleanly(t *testing.T) {
	bin := buildBasket(t)
	addr, dir := freePort(t), t.TempDir()
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", dir, "--override", "num.partitions=2")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.Contains(sc.Text(), "listening on "+addr) || !strings.Contains(sc.Text(), dir) {
		t.Fatalf("first line %q does not say where it listens and keeps data", sc.Text())
	}
	if _, err := os.Stat(filepath.Join(dir, "meta.properties")); err != nil {
		t.Fatalf("meta.properties: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics("hello"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "hello", Value: []byte("world")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fs := cl.PollFetches(ctx)
	if fs.Err0() != nil || fs.NumRecords() != 1 || string(fs.Records()[0].Value) != "world" {
		t.Fatalf("consume: %v, %d records", fs.Err0(), fs.NumRecords())
	}
	cl.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	var rest []string
	for sc.Scan() {
		rest = append(rest, sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if !strings.Contains(strings.Join(rest, "\n"), "stopped cleanly") {
		t.Fatalf("shutdown output: %q", rest)
	}
	if _, err := os.Stat(filepath.Join(dir, ".basket_cleanshutdown")); err != nil {
		t.Fatalf("no clean-shutdown marker: %v", err)
	}
}

// --listen with port 0 takes a free port and advertises the port it bound,
// not 0, so clients can follow the metadata.
func TestServe_PortZeroAdvertisesBoundPort(t *testing.T) {
	bin := buildBasket(t)
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatal("no startup line")
	}
	f := strings.Fields(sc.Text())
	addr := ""
	for i, w := range f {
		if w == "on" && i+1 < len(f) {
			addr = strings.TrimSuffix(f[i+1], ",")
		}
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "0" {
		t.Fatalf("startup line %q names no bound port", sc.Text())
	}
	if err := produceOne(addr, "p0"); err != nil {
		t.Fatalf("produce through the advertised address: %v", err)
	}
}

// produceOne produces one record to topic (created on the way) through
// the broker at addr, giving up after 30 s.
func produceOne(addr, topic string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		return err
	}
	defer cl.Close()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr()
}

// A broker out of file descriptors cannot accept connections, but it must
// take them again once descriptors are free, as Kafka's acceptor does: a
// failed accept is retried, not the end of the accept loop. The broker
// runs with a limit of 64 open files, and idle raw connections use them up.
func TestServe_AcceptsAgainAfterRunningOutOfFiles(t *testing.T) {
	bin := buildBasket(t)
	addr := freePort(t)
	logPath := filepath.Join(t.TempDir(), "broker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	// ulimit -n sets both limits, so Go's raising of the soft limit to
	// the hard one at startup changes nothing.
	cmd := exec.Command("sh", "-c", `ulimit -n 64 && exec "$0" "$@"`, bin, "serve", "--listen", addr, "--data-dir", t.TempDir())
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.Contains(sc.Text(), "listening on "+addr) {
		t.Fatalf("basket serve did not start:\n%s", readLog(logPath))
	}
	go func() {
		for sc.Scan() {
		}
	}()

	// The kernel completes handshakes into the listen backlog whatever the
	// broker's limit, so dialing succeeds; the broker's accepts fail once
	// its descriptors run out.
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 100 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			break // the backlog is full as well
		}
		held = append(held, c)
	}
	waitFor(t, 30*time.Second, "an accept to fail for lack of files", func() bool {
		return strings.Contains(readLog(logPath), "too many open files")
	})
	for _, c := range held {
		c.Close()
	}
	held = nil

	if err := produceOne(addr, "after-emfile"); err != nil {
		t.Fatalf("produce after the broker ran out of files: %v\n%s", err, readLog(logPath))
	}
}
