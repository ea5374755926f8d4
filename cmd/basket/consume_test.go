package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// produceN writes n records "key-i"/"value-i" to one partition.
func (b *testBroker) produceN(t *testing.T, topic string, partition, from, n int) {
	t.Helper()
	var in strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&in, "key-%d:value-%d\n", i, i)
	}
	b.mustRun(t, in.String(), "produce", topic, "--key-separator", ":", "--partition", strconv.Itoa(partition))
}

func TestConsume_Offsets(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders", "-p", "2")
	b.produceN(t, "orders", 0, 0, 5)
	b.produceN(t, "orders", 1, 5, 5)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--partition", "0", "--offset", "3", "-n", "2"}, "value-3\nvalue-4\n"},
		{[]string{"--partition", "1", "--offset", "-2", "-n", "2"}, "value-8\nvalue-9\n"},
		{[]string{"--partition", "0", "--offset", "@0", "-n", "1"}, "value-0\n"},
		{[]string{"-p", "0,1", "--from-beginning", "-n", "10", "-f", `%o\n`}, "0\n1\n2\n3\n4\n0\n1\n2\n3\n4\n"},
	} {
		got := b.mustRun(t, "", append([]string{"consume", "orders"}, tc.args...)...).stdout
		if tc.args[0] == "-p" { // two partitions interleave: compare sorted
			got = sortLines(got)
			tc.want = sortLines(tc.want)
		}
		if got != tc.want {
			t.Errorf("consume %v: got %q, want %q", tc.args, got, tc.want)
		}
	}
}

func sortLines(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	sortStrings(lines)
	return strings.Join(lines, "\n") + "\n"
}

func TestConsume_Errors(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders")
	b.fail(t, `topic "nope" does not exist`, "", "consume", "nope", "-n", "1")
	b.fail(t, `topic "orders" has no partition 3 (it has 1)`, "", "consume", "orders", "--partition", "3", "-n", "1")
	b.fail(t, `--offset "soon"`, "", "consume", "orders", "--offset", "soon")
	b.fail(t, `--offset "@yesterday"`, "", "consume", "orders", "--offset", "@yesterday")
	b.fail(t, `--offset 5 cannot be used with --group`, "", "consume", "orders", "--offset", "5", "--group", "g")
	b.fail(t, `--partition cannot be used with --group`, "", "consume", "orders", "--partition", "0", "--group", "g")
	b.fail(t, `--isolation must be`, "", "consume", "orders", "--isolation", "serializable")
	b.fail(t, `unknown verb %z`, "", "consume", "orders", "-f", "%z")
	b.fail(t, `--num must not be negative`, "", "consume", "orders", "-n", "-1")
}

// lockedBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestConsume_GroupCommitsOnInterrupt: a group consumer without -n runs
// until interrupted (main cancels the context on SIGINT), then commits
// what it printed and exits 0; the next run of the group resumes there.
func TestConsume_GroupCommitsOnInterrupt(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders")
	b.produceN(t, "orders", 0, 0, 3)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"consume", "orders", "--group", "g1", "--from-beginning", "-b", b.addr}, strings.NewReader(""), &out, &errOut)
	}()
	waitFor(t, 30*time.Second, "three records printed", func() bool { return strings.Count(out.String(), "\n") == 3 })
	cancel() // what SIGINT does in main
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after interrupt, stderr: %s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("consume did not stop after interrupt")
	}

	b.produceN(t, "orders", 0, 3, 2)
	if got := b.mustRun(t, "", "consume", "orders", "--group", "g1", "-n", "2").stdout; got != "value-3\nvalue-4\n" {
		t.Errorf("resumed group read %q", got)
	}
	d := b.mustRun(t, "", "group", "describe", "g1", "--format", "json").stdout
	if !strings.Contains(d, `"committed_offset": 5`) || !strings.Contains(d, `"total_lag": 0`) {
		t.Errorf("group after resume:\n%s", d)
	}
}

// TestConsume_ExitAtEnd: -e reads every partition to the end it had when the
// command started, then exits (like kcat -e).
func TestConsume_ExitAtEnd(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders", "-p", "3") // partition 2 stays empty
	b.produceN(t, "orders", 0, 0, 5)
	b.produceN(t, "orders", 1, 5, 4)

	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--from-beginning"}, 9},
		{[]string{}, 0}, // from the end: nothing to read
		{[]string{"--offset", "3", "-p", "0"}, 2},
		{[]string{"--offset", "-1"}, 2},
		{[]string{"--offset", "99", "-p", "1"}, 0}, // past the end: bounded to it
		{[]string{"--offset", "@0", "-p", "2"}, 0},
		{[]string{"--from-beginning", "-n", "4"}, 4},
		{[]string{"--from-beginning", "--isolation", "read_committed"}, 9},
	} {
		r := b.mustRun(t, "", append([]string{"consume", "orders", "-e"}, tc.args...)...)
		if n := strings.Count(r.stdout, "\n"); n != tc.want {
			t.Errorf("consume -e %v: %d records, want %d:\n%s", tc.args, n, tc.want, r.stdout)
		}
	}
	b.fail(t, "--exit-at-end cannot be used with --group", "", "consume", "orders", "-e", "--group", "g")
}

// TestKafkaFlagNames: the flag names of Kafka's console tools work too.
func TestKafkaFlagNames(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders")
	if r := runCLI(t, "a\nb\n", "produce", "--topic", "orders", "--compression-codec", "gzip", "--request-required-acks", "1", "--brokers", b.addr); r.code != 0 {
		t.Fatalf("produce: %s", r.stderr)
	}
	r := runCLI(t, "", "consume", "--topic", "orders", "--from-beginning", "--max-messages", "2", "--isolation-level", "read_committed", "--brokers", b.addr)
	if r.code != 0 || r.stdout != "a\nb\n" {
		t.Fatalf("consume: exit %d, %q %s", r.code, r.stdout, r.stderr)
	}
	b.fail(t, "no topic: give TOPIC or --topic", "", "consume")
	b.fail(t, "give one topic", "", "produce", "orders", "--topic", "other")
}
