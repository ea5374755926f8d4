package goclients

import (
	"fmt"
	"log"
	"maps"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// kafkagoGroupReader is a kafka.Reader in group, logging to the test's
// buffer. Its group protocol is kafka-go's own (protocol.md §1.2):
// FindCoordinator, SyncGroup, Heartbeat and LeaveGroup v0, JoinGroup v1/v2,
// OffsetFetch v1, OffsetCommit v2.
func kafkagoGroupReader(t *testing.T, b *broker, group, topic string, logs *syncBuffer) *kafka.Reader {
	t.Helper()
	logger := log.New(logs, "[kafka-go] ", log.Lmicroseconds)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{b.Addr}, GroupID: group, Topic: topic,
		MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 100 * time.Millisecond,
		HeartbeatInterval: 500 * time.Millisecond, SessionTimeout: 10 * time.Second,
		RebalanceTimeout: 10 * time.Second, JoinGroupBackoff: 200 * time.Millisecond,
		StartOffset: kafka.FirstOffset, CommitInterval: 0, // synchronous commits
		Logger: logger, ErrorLogger: logger,
	})
	t.Cleanup(func() { r.Close() })
	return r
}

// writeRoundRobin writes n records "<phase> <i>" with a kafka.Writer that
// spreads them over the partitions.
func writeRoundRobin(t *testing.T, b *broker, topic, phase string, n int) {
	t.Helper()
	w := &kafka.Writer{
		Addr: kafka.TCP(b.Addr), Topic: topic, Transport: kafkagoTransport(t),
		Balancer: &kafka.RoundRobin{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
	}
	defer w.Close()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: fmt.Appendf(nil, "%s %d", phase, i)}
	}
	if err := w.WriteMessages(testCtx(t, 60*time.Second), msgs...); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// readGroup fetches n messages with r, committing every tenth and the
// last, and checks each partition/offset comes once, every value is
// "<phase> <i>" for a distinct i < n, and each partition starts at
// from[partition]. It returns the offset after the last message of each
// partition.
func readGroup(t *testing.T, r *kafka.Reader, n int, phase string, from map[int32]int64) map[int32]int64 {
	t.Helper()
	ctx := testCtx(t, 90*time.Second)
	next := maps.Clone(from)
	seen := make([]bool, n)
	var pending []kafka.Message
	for range n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		p := int32(m.Partition)
		if m.Offset != next[p] {
			t.Fatalf("partition %d: offset %d, want %d (duplicate or gap)", p, m.Offset, next[p])
		}
		next[p]++
		var i int
		if _, err := fmt.Sscanf(string(m.Value), phase+" %d", &i); err != nil || i >= n || seen[i] {
			t.Fatalf("%d/%d: value %q, want a new %q record", p, m.Offset, m.Value, phase)
		}
		seen[i] = true
		if pending = append(pending, m); len(pending) == 10 {
			if err := r.CommitMessages(ctx, pending...); err != nil {
				t.Fatalf("commit: %v", err)
			}
			pending = nil
		}
	}
	if err := r.CommitMessages(ctx, pending...); err != nil {
		t.Fatalf("commit: %v", err)
	}
	return next
}

// TestKafkago_GroupReader consumes a three-partition topic with a kafka-go
// group Reader, exactly once, committing as it goes; closes it (LeaveGroup
// v0); then a second Reader in the group resumes at the committed offsets
// and reads only the records written after.
func TestKafkago_GroupReader(t *testing.T) {
	const first, second = 300, 150
	b := startBroker(t)
	topic, group := "kafkago-group", "kafkago-group-g"
	createTopic(t, b, topic, 3, nil)
	logs := new(syncBuffer)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kafka-go log:\n%s", logs.String())
		}
	})
	writeRoundRobin(t, b, topic, "first", first)

	r1 := kafkagoGroupReader(t, b, group, topic, logs)
	start := map[int32]int64{0: 0, 1: 0, 2: 0}
	next := readGroup(t, r1, first, "first", start)
	if err := r1.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if ends := endOffsets(t, b, topic); !maps.Equal(next, ends) {
		t.Fatalf("read up to %v, the partitions end at %v", next, ends)
	}
	if c := committed(t, b, group, topic); !maps.Equal(c, next) {
		t.Fatalf("committed %v, want %v", c, next)
	}
	// The member left: the group is empty, not waiting for its session
	// to time out.
	waitFor(t, 30*time.Second, "the group to be empty", func() bool {
		gs, err := kadmClient(t, b).DescribeGroups(testCtx(t, 30*time.Second), group)
		return err == nil && gs[group].State == "Empty" && len(gs[group].Members) == 0
	})

	writeRoundRobin(t, b, topic, "second", second)
	r2 := kafkagoGroupReader(t, b, group, topic, logs)
	final := readGroup(t, r2, second, "second", next)
	if err := r2.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if c := committed(t, b, group, topic); !maps.Equal(c, final) || !maps.Equal(final, endOffsets(t, b, topic)) {
		t.Fatalf("committed %v, read up to %v, want the end offsets", c, final)
	}
}
