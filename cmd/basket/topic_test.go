package main

import (
	"strings"
	"testing"
)

func TestTopic_CreateListDescribeAlterDelete(t *testing.T) {
	b := startTestBroker(t)
	r := b.mustRun(t, "", "topic", "create", "orders", "-p", "3", "-c", "retention.ms=3600000")
	golden(t, "topic_create.txt", b.normalize(r.stdout))
	b.mustRun(t, "", "topic", "create", "payments", "-p", "1")

	golden(t, "topic_list.txt", b.normalize(b.mustRun(t, "", "topic", "list").stdout))
	golden(t, "topic_list.json", b.normalize(b.mustRun(t, "", "topic", "list", "--format", "json").stdout))

	b.mustRun(t, "a\nb\nc\n", "produce", "orders", "--partition", "1")
	golden(t, "topic_describe.txt", b.normalize(b.mustRun(t, "", "topic", "describe", "orders").stdout))
	golden(t, "topic_describe.json", b.normalize(b.mustRun(t, "", "topic", "describe", "orders", "--format", "json").stdout))

	b.mustRun(t, "", "topic", "alter-config", "orders", "--set", "cleanup.policy=compact", "--delete", "retention.ms")
	d := b.mustRun(t, "", "topic", "describe", "orders").stdout
	if !strings.Contains(d, "cleanup.policy") || strings.Contains(d, "retention.ms") {
		t.Errorf("after alter-config:\n%s", d)
	}

	if r := b.mustRun(t, "", "topic", "add-partitions", "orders", "--to", "5"); !strings.Contains(r.stdout, "5 partitions") {
		t.Errorf("add-partitions said %q", r.stdout)
	}
	if d := b.mustRun(t, "", "topic", "describe", "orders", "--format", "json").stdout; strings.Count(d, `"partition":`) != 5 {
		t.Errorf("describe after add-partitions:\n%s", d)
	}

	if r := b.mustRun(t, "", "topic", "delete", "orders", "payments"); r.stdout != "deleted topic orders\ndeleted topic payments\n" {
		t.Errorf("delete said %q", r.stdout)
	}
	if r := b.mustRun(t, "", "topic", "list", "--format", "json"); r.stdout != "[]\n" {
		t.Errorf("list after delete: %q", r.stdout)
	}
}

func TestTopic_Errors(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders", "-p", "2")
	b.fail(t, `topic "nope" does not exist`, "", "topic", "describe", "nope")
	b.fail(t, `topic "nope" does not exist`, "", "topic", "delete", "nope")
	b.fail(t, `topic "nope" does not exist`, "", "topic", "add-partitions", "nope", "--to", "3")
	b.fail(t, `topic "nope" does not exist`, "", "topic", "alter-config", "nope", "--set", "retention.ms=1")
	b.fail(t, `TOPIC_ALREADY_EXISTS`, "", "topic", "create", "orders")
	b.fail(t, `INVALID_PARTITIONS`, "", "topic", "add-partitions", "orders", "--to", "1")
	b.fail(t, `--to must be a positive`, "", "topic", "add-partitions", "orders")
	b.fail(t, `-c "retention.ms": want key=value`, "", "topic", "create", "x", "-c", "retention.ms")
	b.fail(t, `invalid argument "many"`, "", "topic", "create", "x", "-p", "many")
	b.fail(t, `--format must be table or json`, "", "topic", "list", "--format", "xml")
	b.fail(t, `nothing to change`, "", "topic", "alter-config", "orders")
	b.fail(t, `requires at least 1 arg`, "", "topic", "describe")
}

// A compacted topic's describe shows the log cleaner's dirty ratio per
// partition (issue 6), read from Basket's DescribeLogDirs extension; other
// topics show no such column.
func TestTopic_DescribeShowsDirtyRatioOfCompactedTopics(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "table", "-p", "2", "-c", "cleanup.policy=compact", "-c", "min.cleanable.dirty.ratio=0.9")
	b.mustRun(t, "", "topic", "create", "plain")
	b.mustRun(t, "k:1\nk:2\nk:3\n", "produce", "table", "--key-separator", ":", "--partition", "0")
	d := b.mustRun(t, "", "topic", "describe", "table").stdout
	if !strings.Contains(d, "DIRTY-RATIO") || !strings.Contains(d, "0.00") {
		t.Errorf("describe of a compacted topic:\n%s", d)
	}
	if j := b.mustRun(t, "", "topic", "describe", "table", "--format", "json").stdout; strings.Count(j, `"dirty_ratio":`) != 2 {
		t.Errorf("json describe of a compacted topic:\n%s", j)
	}
	if d := b.mustRun(t, "", "topic", "describe", "plain").stdout; strings.Contains(d, "DIRTY-RATIO") {
		t.Errorf("describe of a delete-policy topic:\n%s", d)
	}
}
