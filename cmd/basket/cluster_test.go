package main

import (
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestCluster_Info(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders", "-p", "3")
	// The port's width moves the columns; compare with them collapsed.
	spaces := regexp.MustCompile(`  +`)
	golden(t, "cluster_info.txt", spaces.ReplaceAllString(b.normalize(b.mustRun(t, "", "cluster", "info").stdout), "  "))
	golden(t, "cluster_info.json", b.normalize(b.mustRun(t, "", "cluster", "info", "--format", "json").stdout))
}

func TestConfig_DescribeAndAlter(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders", "-c", "retention.ms=1000")
	golden(t, "config_describe_topic_nondefault.txt", b.mustRun(t, "", "config", "describe", "--topic", "orders", "--non-default").stdout)
	all := b.mustRun(t, "", "config", "describe", "--topic", "orders").stdout
	if !strings.Contains(all, "segment.bytes") || !strings.Contains(all, "DEFAULT_CONFIG") {
		t.Errorf("describe without --non-default lacks the defaults:\n%s", all)
	}

	b.mustRun(t, "", "config", "alter", "--topic", "orders", "--set", "retention.ms=2000", "--set", "max.message.bytes=5000")
	b.mustRun(t, "", "config", "alter", "--topic", "orders", "--delete", "max.message.bytes")
	golden(t, "config_describe_topic_altered.json", b.mustRun(t, "", "config", "describe", "--topic", "orders", "--non-default", "--format", "json").stdout)

	if r := b.mustRun(t, "", "config", "alter", "--broker", "1", "--set", "log.retention.ms=604800000"); r.stdout != "altered configs of broker 1\n" {
		t.Errorf("alter broker said %q", r.stdout)
	}
	d := b.mustRun(t, "", "config", "describe", "--broker", "1", "--non-default").stdout
	if !strings.Contains(d, "log.retention.ms") || !strings.Contains(d, "604800000") || !strings.Contains(d, "DYNAMIC_BROKER_CONFIG") {
		t.Errorf("broker configs after alter:\n%s", d)
	}

	b.fail(t, `give --broker ID or --topic NAME`, "", "config", "describe")
	b.fail(t, `give --broker or --topic, not both`, "", "config", "describe", "--broker", "1", "--topic", "orders")
	b.fail(t, `topic "nope" does not exist`, "", "config", "describe", "--topic", "nope")
	b.fail(t, `broker 9 does not exist`, "", "config", "describe", "--broker", "9")
	b.fail(t, `broker 9 does not exist`, "", "config", "alter", "--broker", "9", "--set", "a=b")
	b.fail(t, `retention.ms is both set and deleted`, "", "config", "alter", "--topic", "orders", "--set", "retention.ms=1", "--delete", "retention.ms")
	b.fail(t, `INVALID_CONFIG`, "", "config", "alter", "--topic", "orders", "--set", "retention.ms=soon")
	b.fail(t, `invalid argument "one"`, "", "config", "describe", "--broker", "one")
}

// TestConnection_Errors: an unreachable broker fails fast with one line
// naming the address; the bootstrap servers come from -b, --brokers or
// BASKET_BROKERS.
func TestConnection_Errors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	for _, args := range [][]string{
		{"topic", "list"}, {"topic", "describe", "x"}, {"produce", "x"}, {"consume", "x"}, {"group", "list"},
		{"config", "describe", "--broker", "1"}, {"cluster", "info"}, {"perf", "produce", "x", "-n", "1"},
		{"perf", "consume", "x", "-n", "1"}, {"txn", "list"},
	} {
		start := time.Now()
		expectFailure(t, runCLI(t, "", append(args, "-b", dead)...), "cannot reach "+dead+": connection refused", args)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%v took %v to fail", args, d)
		}
	}
	expectFailure(t, runCLI(t, "", "topic", "list", "--brokers", dead), "cannot reach "+dead, nil)
	t.Setenv("BASKET_BROKERS", dead)
	expectFailure(t, runCLI(t, "", "topic", "list"), "cannot reach "+dead, nil)
	expectFailure(t, runCLI(t, "", "topic", "list", "-b", "nohost.invalid:9092", "--timeout", "3s"), "cannot reach nohost.invalid:9092: unknown host", nil)
	expectFailure(t, runCLI(t, "", "topic", "list", "--timeout", "0s"), "--timeout must be positive", nil)

	b := startTestBroker(t)
	t.Setenv("BASKET_BROKERS", " "+b.addr+" ,")
	if r := runCLI(t, "", "topic", "list"); r.code != 0 {
		t.Errorf("BASKET_BROKERS=%s: exit %d, %s", b.addr, r.code, r.stderr)
	}
}

// TestHelp_EveryCommandHasExamples walks the command tree.
func TestHelp_EveryCommandHasExamples(t *testing.T) {
	root := rootCommand()
	var check func(c *cobra.Command)
	check = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" || c.Parent() != nil && c.Parent().Name() == "completion" {
			return
		}
		if c != root && c.Example == "" {
			t.Errorf("%s has no examples", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			check(sub)
		}
	}
	check(root)
	r := runCLI(t, "", "group", "reset-offsets", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "--to-earliest") {
		t.Errorf("help: exit %d\n%s", r.code, r.stdout)
	}
}

// TestTxn_ListAndDescribe runs once the broker serves DescribeTransactions
// (65) and ListTransactions (66), issue 7.
func TestTxn_ListAndDescribe(t *testing.T) {
	b := startTestBroker(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	vs, err := kadm.NewClient(cl).ApiVersions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	supported := false
	vs.Each(func(v kadm.BrokerApiVersions) {
		_, list := v.KeyMaxVersion(kmsg.ListTransactions.Int16())
		_, desc := v.KeyMaxVersion(kmsg.DescribeTransactions.Int16())
		supported = list && desc
	})
	if !supported {
		b.fail(t, "the cluster does not support ListTransactions", "", "txn", "list")
		b.fail(t, "the cluster does not support DescribeTransactions", "", "txn", "describe", "tx")
		t.Skip("the broker does not serve ListTransactions/DescribeTransactions yet (issue 7)")
	}

	b.mustRun(t, "", "topic", "create", "orders")
	tcl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.TransactionalID("tx-1"), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer tcl.Close()
	if err := tcl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := tcl.ProduceSync(t.Context(), &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	l := b.mustRun(t, "", "txn", "list").stdout
	if !strings.Contains(l, "tx-1") || !strings.Contains(l, "Ongoing") {
		t.Errorf("txn list:\n%s", l)
	}
	d := b.mustRun(t, "", "txn", "describe", "tx-1", "--format", "json").stdout
	if !strings.Contains(d, `"state": "Ongoing"`) || !strings.Contains(d, `"orders": [`) {
		t.Errorf("txn describe:\n%s", d)
	}
	t.Logf("basket txn list:\n%s\nbasket txn describe tx-1 --format json:\n%s", l, d)
	if err := tcl.EndTransaction(t.Context(), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	// The markers are written after EndTxn answers; then the coordinator
	// completes the transaction, and under KIP-890 part 2 the epoch moved.
	var text string
	waitFor(t, 10*time.Second, "CompleteCommit", func() bool {
		text = b.mustRun(t, "", "txn", "describe", "tx-1").stdout
		return strings.Contains(text, "CompleteCommit")
	})
	t.Logf("basket txn describe tx-1 after the commit:\n%s", text)
	if !regexp.MustCompile(`(?m)^PRODUCER-EPOCH\s+1$`).MatchString(text) {
		t.Errorf("the commit did not bump the epoch (KIP-890 part 2):\n%s", text)
	}
	b.fail(t, `transactional id "nope" does not exist`, "", "txn", "describe", "nope")
}

// TestBinary_ErrorExitCode runs the built binary: a runtime error is one
// line on stderr and exit code 1, with nothing on stdout.
func TestBinary_ErrorExitCode(t *testing.T) {
	bin := buildBasket(t)
	cmd := exec.Command(bin, "topic", "list", "-b", "127.0.0.1:1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || stdout.Len() != 0 ||
		stderr.String() != "basket: cannot reach 127.0.0.1:1: connection refused\n" {
		t.Fatalf("exit %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
}
