package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestCLI_EndToEnd is the walk through the tools: create →
// describe → produce → consume → group describe shows lag → reset-offsets
// dry run and execute → delete.
func TestCLI_EndToEnd(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders", "-p", "2")
	b.mustRun(t, "", "topic", "describe", "orders")
	b.produceN(t, "orders", 0, 0, 6)
	b.produceN(t, "orders", 1, 6, 4)

	// A group reads the 10 records and commits them; 3 more arrive.
	got := b.mustRun(t, "", "consume", "orders", "--group", "billing", "--from-beginning", "-n", "10").stdout
	if strings.Count(got, "\n") != 10 {
		t.Fatalf("consumed %q", got)
	}
	b.produceN(t, "orders", 1, 10, 3)
	golden(t, "group_list.txt", b.mustRun(t, "", "group", "list").stdout)
	golden(t, "group_list.json", b.mustRun(t, "", "group", "list", "--format", "json").stdout)
	d := b.mustRun(t, "", "group", "describe", "billing").stdout
	if !strings.Contains(d, "TOTAL-LAG    3\n") {
		t.Errorf("describe does not show a total lag of 3:\n%s", d)
	}

	// Dry run: nothing changes.
	r := b.mustRun(t, "", "group", "reset-offsets", "billing", "--topic", "orders", "--to-earliest")
	golden(t, "group_reset_dry_run.txt", r.stdout)
	if r.stderr != "basket: dry run; add --execute to commit these offsets\n" {
		t.Errorf("dry run stderr %q", r.stderr)
	}
	if d2 := b.mustRun(t, "", "group", "describe", "billing").stdout; d2 != d {
		t.Errorf("dry run changed the group:\n%s\nthen\n%s", d, d2)
	}

	// Execute: back to the start, all 13 records of lag.
	b.mustRun(t, "", "group", "reset-offsets", "billing", "--topic", "orders", "--to-earliest", "--execute")
	golden(t, "group_describe_after_reset.txt", b.mustRun(t, "", "group", "describe", "billing").stdout)
	golden(t, "group_describe_after_reset.json", b.mustRun(t, "", "group", "describe", "billing", "--format", "json").stdout)

	// The other ways of choosing offsets.
	for _, tc := range []struct {
		args []string
		want string // the NEW-OFFSET column, partition 0 then 1
	}{
		{[]string{"--to-latest"}, "6 7"},
		{[]string{"--to-offset", "3"}, "3 3"},
		{[]string{"--to-offset", "7"}, "6 7"}, // clamped to the log end
		{[]string{"--shift-by", "2"}, "2 2"},
		{[]string{"--shift-by", "-5"}, "0 0"}, // clamped to the log start
		{[]string{"--to-datetime", "0"}, "0 0"},
		{[]string{"--to-datetime", "2999-01-01T00:00:00Z"}, "6 7"},
	} {
		r := b.mustRun(t, "", append([]string{"group", "reset-offsets", "billing", "--all-topics", "--format", "json"}, tc.args...)...)
		var offs []string
		for _, line := range strings.Split(r.stdout, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), `"new_offset": `); ok {
				offs = append(offs, v)
			}
		}
		if strings.Join(offs, " ") != tc.want {
			t.Errorf("reset %v: new offsets %v, want %s\n%s", tc.args, offs, tc.want, r.stdout)
		}
	}

	if r := b.mustRun(t, "", "group", "delete", "billing"); r.stdout != "deleted group billing\n" {
		t.Errorf("group delete said %q", r.stdout)
	}
	b.fail(t, `group "billing" does not exist`, "", "group", "describe", "billing")
	b.mustRun(t, "", "topic", "delete", "orders")
}

// TestGroup_RefusesResetAndDeleteWhileMembersLive: --execute and delete are
// refused while a consumer is in the group; a dry run still shows the plan.
func TestGroup_RefusesResetAndDeleteWhileMembersLive(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders")
	b.produceN(t, "orders", 0, 0, 3)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.ConsumerGroup("live"), kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if fs := cl.PollFetches(ctx); fs.NumRecords() == 0 {
		t.Fatalf("member read nothing: %v", fs.Err0())
	}
	cl.CommitUncommittedOffsets(ctx)
	waitFor(t, 30*time.Second, "a stable group", func() bool {
		return strings.Contains(b.mustRun(t, "", "group", "list").stdout, "Stable")
	})

	b.mustRun(t, "", "group", "reset-offsets", "live", "--topic", "orders", "--to-earliest")
	b.fail(t, `group "live" has 1 live members (state Stable); stop its consumers before resetting offsets`, "",
		"group", "reset-offsets", "live", "--topic", "orders", "--to-earliest", "--execute")
	b.fail(t, `group "live" has live members`, "", "group", "delete", "live")

	d := b.mustRun(t, "", "group", "describe", "live").stdout
	if !strings.Contains(d, "MEMBERS      1") || !strings.Contains(d, "orders:0") {
		t.Errorf("describe of a live group:\n%s", d)
	}
}

func TestGroup_Errors(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders")
	b.produceN(t, "orders", 0, 0, 2)
	b.mustRun(t, "", "consume", "orders", "--group", "g", "--from-beginning", "-n", "1")
	b.fail(t, `group "nope" does not exist`, "", "group", "describe", "nope")
	b.fail(t, `give --topic or --all-topics`, "", "group", "reset-offsets", "g", "--to-earliest")
	b.fail(t, `give exactly one of`, "", "group", "reset-offsets", "g", "--topic", "orders")
	b.fail(t, `give exactly one of`, "", "group", "reset-offsets", "g", "--topic", "orders", "--to-earliest", "--to-latest")
	b.fail(t, `topic "nope" does not exist`, "", "group", "reset-offsets", "g", "--topic", "nope", "--to-earliest")
	b.fail(t, `topic "orders" has no partition 4`, "", "group", "reset-offsets", "g", "--topic", "orders:4", "--to-earliest")
	b.fail(t, `--topic "orders:x"`, "", "group", "reset-offsets", "g", "--topic", "orders:x", "--to-earliest")
	b.fail(t, `--to-datetime "tuesday"`, "", "group", "reset-offsets", "g", "--topic", "orders", "--to-datetime", "tuesday")
	b.fail(t, `--execute and --dry-run`, "", "group", "reset-offsets", "g", "--topic", "orders", "--to-earliest", "--execute", "--dry-run")
}
