package goclients

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// saramaMember is one sarama ConsumerGroup member: it consumes in a loop
// until stopped, marks every message and forwards it to out.
type saramaMember struct {
	name   string
	group  sarama.ConsumerGroup
	out    chan<- consumed
	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	generation int32
	claims     []int32 // partitions of the current generation, sorted
}

// consumed is a message and the member that got it.
type consumed struct {
	member string
	msg    *sarama.ConsumerMessage
}

// startSaramaMember starts a member; configure adjusts its configuration
// last.
func startSaramaMember(t *testing.T, b *broker, configure func(*sarama.Config), group, topic, name string, out chan<- consumed) *saramaMember {
	t.Helper()
	cfg := saramaConfig(t)
	cfg.ClientID += "-" + name
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
	cfg.Consumer.Group.Session.Timeout = 10 * time.Second
	cfg.Consumer.Group.Rebalance.Retry.Backoff = 200 * time.Millisecond
	cfg.Consumer.Return.Errors = true
	configure(cfg)
	g, err := sarama.NewConsumerGroup([]string{b.Addr}, group, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &saramaMember{name: name, group: g, out: out, cancel: cancel, done: make(chan struct{}), generation: -1}
	go func() {
		for err := range g.Errors() {
			t.Errorf("%s: %v", name, err)
		}
	}()
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, m); err != nil && ctx.Err() == nil {
				t.Errorf("%s: consume: %v", name, err)
				return
			}
		}
	}()
	t.Cleanup(m.stop)
	return m
}

// stop ends the consume loop and closes the member, which commits the
// marked offsets and leaves the group. It is idempotent.
func (m *saramaMember) stop() {
	m.cancel()
	<-m.done
	m.group.Close()
}

func (m *saramaMember) current() (int32, []int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.generation, m.claims
}

func (m *saramaMember) Setup(s sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.generation = s.GenerationID()
	m.claims = nil
	for _, ps := range s.Claims() {
		m.claims = append(m.claims, ps...)
	}
	slices.Sort(m.claims)
	return nil
}

func (m *saramaMember) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (m *saramaMember) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for msg := range c.Messages() {
		s.MarkMessage(msg, "")
		select {
		case m.out <- consumed{m.name, msg}:
		case <-s.Context().Done():
			return nil
		}
	}
	return nil
}

// produceSarama sends n messages "<phase> <i>" round-robin over partitions
// with an idempotent SyncProducer, so that sarama's retries (it retries,
// for one, when a connection it was handed is not open yet) cannot
// duplicate records.
func produceSarama(t *testing.T, b *broker, topic string, partitions int32, phase string, n int) {
	t.Helper()
	cfg := saramaConfig(t)
	cfg.Producer.Return.Successes = true
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	prod, err := sarama.NewSyncProducer([]string{b.Addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	msgs := make([]*sarama.ProducerMessage, n)
	for i := range msgs {
		msgs[i] = &sarama.ProducerMessage{
			Topic: topic, Partition: int32(i) % partitions,
			Value: sarama.StringEncoder(fmt.Sprintf("%s %d", phase, i)),
		}
	}
	if err := prod.SendMessages(msgs); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// collect receives n messages from ch (failing after 90s) and checks that
// each partition/offset arrives once and every value starts with phase.
func collect(t *testing.T, ch <-chan consumed, n int, phase string) []consumed {
	t.Helper()
	type at struct {
		p int32
		o int64
	}
	seen := map[at]bool{}
	var out []consumed
	timeout := time.After(90 * time.Second)
	for len(out) < n {
		select {
		case c := <-ch:
			k := at{c.msg.Partition, c.msg.Offset}
			if seen[k] {
				t.Fatalf("%s read %d/%d a second time", c.member, k.p, k.o)
			}
			seen[k] = true
			if !strings.HasPrefix(string(c.msg.Value), phase+" ") {
				t.Fatalf("%s read %q at %d/%d, want only %q records", c.member, c.msg.Value, k.p, k.o, phase)
			}
			out = append(out, c)
		case <-timeout:
			t.Fatalf("read %d of %d messages in 90s", len(out), n)
		}
	}
	return out
}

// TestSarama_ConsumerGroup has two members split a four-partition topic,
// read every record once and commit on close; a third member then resumes
// from the committed offsets and reads only what was produced after. It
// runs with the range assignor at Config.Version 2.1 (JoinGroup v3, before
// KIP-394's member id round trip), the default 2.8 (JoinGroup v7) and the
// newest sarama knows, and with cooperative-sticky (KIP-429) at 2.8.
func TestSarama_ConsumerGroup(t *testing.T) {
	b := startBroker(t)
	for _, c := range []struct {
		name     string
		version  sarama.KafkaVersion
		strategy sarama.BalanceStrategy
	}{
		{"range-2.1", sarama.V2_1_0_0, sarama.NewBalanceStrategyRange()},
		{"range-2.8", sarama.DefaultVersion, sarama.NewBalanceStrategyRange()},
		{"range-4.3.1", sarama.MaxVersion, sarama.NewBalanceStrategyRange()},
		{"cooperative-sticky-2.8", sarama.DefaultVersion, sarama.NewBalanceStrategyCooperativeSticky()},
	} {
		t.Run(c.name, func(t *testing.T) {
			saramaConsumerGroup(t, b, "sarama-group-"+strings.ReplaceAll(c.name, ".", "-"), func(cfg *sarama.Config) {
				cfg.Version = c.version
				cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{c.strategy}
			})
		})
	}
}

func saramaConsumerGroup(t *testing.T, b *broker, topic string, configure func(*sarama.Config)) {
	const partitions, first, second = 4, 400, 200
	group := topic + "-g"
	createTopic(t, b, topic, partitions, nil)
	ch := make(chan consumed, first+second)
	a := startSaramaMember(t, b, configure, group, topic, "a", ch)
	m2 := startSaramaMember(t, b, configure, group, topic, "b", ch)

	// Both in the same generation with disjoint halves of the topic.
	waitFor(t, 60*time.Second, "both members to hold two partitions in one generation", func() bool {
		ga, ca := a.current()
		gb, cb := m2.current()
		all := slices.Sorted(slices.Values(append(slices.Clone(ca), cb...)))
		return ga == gb && ga >= 0 && len(ca) == 2 && len(cb) == 2 && slices.Equal(all, []int32{0, 1, 2, 3})
	})
	_, ca := a.current()
	produceSarama(t, b, topic, partitions, "first", first)
	per := map[string]int{}
	for _, c := range collect(t, ch, first, "first") {
		if (c.member == "a") != slices.Contains(ca, c.msg.Partition) {
			t.Fatalf("%s read partition %d; a holds %v", c.member, c.msg.Partition, ca)
		}
		per[c.member]++
	}
	if per["a"] != first/2 || per["b"] != first/2 {
		t.Fatalf("members read %v, want %d each", per, first/2)
	}
	a.stop()
	m2.stop()
	if got, want := committed(t, b, group, topic), endOffsets(t, b, topic); !maps.Equal(got, want) {
		t.Fatalf("committed %v, want the end offsets %v", got, want)
	}

	produceSarama(t, b, topic, partitions, "second", second)
	c := startSaramaMember(t, b, configure, group, topic, "c", ch)
	firstAt := map[int32]int64{}
	for _, got := range collect(t, ch, second, "second") {
		if _, ok := firstAt[got.msg.Partition]; !ok {
			firstAt[got.msg.Partition] = got.msg.Offset
		}
	}
	for p := range int32(partitions) {
		if firstAt[p] != first/partitions {
			t.Errorf("c started partition %d at offset %d, want the committed %d", p, firstAt[p], first/partitions)
		}
	}
	c.stop()
	if got, want := committed(t, b, group, topic), endOffsets(t, b, topic); !maps.Equal(got, want) {
		t.Fatalf("committed %v after c, want the end offsets %v", got, want)
	}
}
