package server

// Running the client scripts of test/interop: each scenario is one
// subprocess that prints what it observed as a `RESULT {json}` line on
// stdout, which the Go test decodes and checks.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/record"
)

// interopTimeout bounds one client script. A scenario takes a few seconds;
// the margin is for a loaded machine.
const interopTimeout = 90 * time.Second

// runInterop runs bin with args in dir and decodes the JSON of its last
// RESULT line into result. A non-zero exit, a timeout or a missing or
// malformed RESULT line fails the test with the script's output.
func runInterop(t *testing.T, dir string, result any, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), interopTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	what := strings.Join(append([]string{bin}, args...), " ")
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("%s: still running after %v\nstdout:\n%s\nstderr:\n%s", what, interopTimeout, out, stderr.String())
	case err != nil:
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", what, err, out, stderr.String())
	}
	t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
	line := ""
	for l := range strings.SplitSeq(string(out), "\n") {
		if rest, ok := strings.CutPrefix(l, "RESULT "); ok {
			line = rest
		}
	}
	if err := json.Unmarshal([]byte(line), result); err != nil {
		t.Fatalf("%s printed no RESULT line that decodes (%v)\nstdout:\n%s\nstderr:\n%s", what, err, out, stderr.String())
	}
}

// sentRecord is a record as a client script reports having produced it:
// key, value and header values hex-encoded (a null key is nil), and where
// the client's producer says it was written.
type sentRecord struct {
	Key       *string     `json:"key"`
	Value     string      `json:"value"`
	Headers   [][2]string `json:"headers"`
	Partition int32       `json:"partition"`
	Offset    int64       `json:"offset"`
}

// checkProducedRecords checks what a client's producer reported against the
// broker: per partition, the offsets of the records in send order are
// distinct and increasing; every batch in the log is stored with codec and
// the log holds exactly these records; and kgo reads each record back at
// its reported offset with identical key, value and headers.
func checkProducedRecords(t *testing.T, b *Broker, topic string, partitions int32, codec record.Codec, sent []sentRecord) {
	t.Helper()
	last := map[int32]int64{}
	perPartition := map[int32]int{}
	byOffset := map[[2]int64]sentRecord{}
	for i, r := range sent {
		if l, ok := last[r.Partition]; ok && r.Offset <= l {
			t.Fatalf("record %d: partition %d offset %d after offset %d, want increasing offsets", i, r.Partition, r.Offset, l)
		}
		if r.Partition < 0 || r.Partition >= partitions || r.Offset < 0 {
			t.Fatalf("record %d: the producer reports partition %d offset %d", i, r.Partition, r.Offset)
		}
		last[r.Partition] = r.Offset
		perPartition[r.Partition]++
		byOffset[[2]int64{int64(r.Partition), r.Offset}] = r
	}
	for p := range partitions {
		records := 0
		for _, h := range storedBatches(t, b, topic, p) {
			if got := h.Attributes.Codec(); got != codec {
				t.Fatalf("%s-%d: the batch at offset %d is stored with codec %v, the producer was asked for %v", topic, p, h.BaseOffset, got, codec)
			}
			records += int(h.RecordsCount)
		}
		if records != perPartition[p] {
			t.Fatalf("%s-%d: the log holds %d records, the producer reports %d", topic, p, records, perPartition[p])
		}
	}

	cons := newClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for read := 0; read < len(sent); {
		fs := cons.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("kgo read %d of %d records: %v", read, len(sent), err)
		}
		for _, r := range fs.Records() {
			want, ok := byOffset[[2]int64{int64(r.Partition), r.Offset}]
			if !ok {
				t.Fatalf("kgo read %s-%d offset %d, which the producer did not report", topic, r.Partition, r.Offset)
			}
			if got := interopRecord(r); !sameRecord(got, want) {
				t.Fatalf("%s-%d offset %d: kgo read %+v, the producer sent %+v", topic, r.Partition, r.Offset, got, want)
			}
			read++
		}
	}
}

// interopRecord is r in the shape of sentRecord.
func interopRecord(r *kgo.Record) sentRecord {
	s := sentRecord{Value: fmt.Sprintf("%x", r.Value), Partition: r.Partition, Offset: r.Offset, Headers: [][2]string{}}
	if r.Key != nil {
		k := fmt.Sprintf("%x", r.Key)
		s.Key = &k
	}
	for _, h := range r.Headers {
		s.Headers = append(s.Headers, [2]string{h.Key, fmt.Sprintf("%x", h.Value)})
	}
	return s
}

func sameRecord(a, b sentRecord) bool {
	if (a.Key == nil) != (b.Key == nil) || a.Key != nil && *a.Key != *b.Key || a.Value != b.Value || len(a.Headers) != len(b.Headers) {
		return false
	}
	for i := range a.Headers {
		if a.Headers[i] != b.Headers[i] {
			return false
		}
	}
	return true
}

// plainProducer is manualProducer without compression: kgo compresses with
// snappy by default, which kafkajs cannot read and kafka-python reads only
// with python3-snappy installed.
func plainProducer(t *testing.T, b *Broker) *kgo.Client {
	return newClient(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
}

// interopMember is one consumer of a group scenario: what it read
// (partition, offset, value), its assignments in order, the one it had at
// the end, and any error it ran into.
type interopMember struct {
	Records         [][3]any  `json:"records"`
	Assignments     [][]int32 `json:"assignments"`
	FinalAssignment []int32   `json:"final_assignment"`
	Errors          []string  `json:"errors"`
}

// checkSplit checks that the members of a group scenario shared topic's
// partitions: each read something, their final assignments are disjoint
// and cover every partition, and no record was read twice. It returns what
// they read together.
func checkSplit(t *testing.T, topic string, partitions int, members []interopMember) map[tp]map[int64]string {
	t.Helper()
	if len(members) != 2 {
		t.Fatalf("%d members reported, want 2", len(members))
	}
	got := map[tp]map[int64]string{}
	owner := map[int32]int{}
	for n, m := range members {
		if len(m.Errors) != 0 {
			t.Fatalf("member %d: %v", n, m.Errors)
		}
		if len(m.Records) == 0 || len(m.FinalAssignment) == 0 {
			t.Errorf("member %d read %d records, ends with partitions %v; want both members to share the topic", n, len(m.Records), m.FinalAssignment)
		}
		for _, p := range m.FinalAssignment {
			if o, ok := owner[p]; ok {
				t.Errorf("partition %d is assigned to members %d and %d", p, o, n)
			}
			owner[p] = n
		}
		addRecords(t, got, topic, m.Records)
	}
	if len(owner) != partitions {
		t.Errorf("final assignments %v and %v do not cover the %d partitions", members[0].FinalAssignment, members[1].FinalAssignment, partitions)
	}
	t.Logf("assignments: member 0 %v, member 1 %v", members[0].Assignments, members[1].Assignments)
	return got
}

// addRecords adds the (partition, offset, value) triples a script read to
// got, failing the test on one read twice.
func addRecords(t *testing.T, got map[tp]map[int64]string, topic string, records [][3]any) {
	t.Helper()
	for _, r := range records {
		p, o, v := int32(r[0].(float64)), int64(r[1].(float64)), r[2].(string)
		k := tp{topic, p}
		if got[k] == nil {
			got[k] = map[int64]string{}
		}
		if prev, dup := got[k][o]; dup {
			t.Fatalf("%v offset %d read twice (%q, then %q)", k, o, prev, v)
		}
		got[k][o] = v
	}
}

// jsonString is v as compact JSON, for comparing decoded script output.
func jsonString(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// interopAdminConfig is a broker that validates topic configs as basket
// serve does (adminConfig) with groupConfig's group timings.
func interopAdminConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	cfg, gc := adminConfig(t, dir, map[string]string{"node.id": "1"}), groupConfig(t, dir)
	cfg.Group, cfg.OffsetsTopicPartitions = gc.Group, gc.OffsetsTopicPartitions
	return cfg
}

// interopConfig is a DescribeConfigs entry as the scripts report it:
// [value, config source (v1+), read-only].
type interopConfig struct {
	Value    *string
	Source   kmsg.ConfigSource
	ReadOnly bool
}

func (c *interopConfig) UnmarshalJSON(data []byte) error {
	var v [3]any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if s, ok := v[0].(string); ok {
		c.Value = &s
	}
	if f, ok := v[1].(float64); ok {
		c.Source = kmsg.ConfigSource(f)
	}
	c.ReadOnly, _ = v[2].(bool)
	return nil
}

func wantInteropConfig(t *testing.T, what string, configs map[string]interopConfig, name, value string, source kmsg.ConfigSource) {
	t.Helper()
	c, ok := configs[name]
	if !ok || c.Value == nil || *c.Value != value || c.Source != source {
		t.Errorf("%s: config %s = %q source %v (present %v), want %q source %v", what, name, derefOr(c.Value, "null"), c.Source, ok, value, source)
	}
}

// interopGroupScenario drives a client's "group" and "resume" scenarios:
// two consumers in one group split a 4-partition topic, each record read
// once, and commit; then a new consumer in the group reads only what was
// produced since. run runs one scenario of the client's script. With
// reportsCommitted, the resume scenario also reports the offsets it found
// committed before it read ("committed_before").
func interopGroupScenario(t *testing.T, b *Broker, client, name string, reportsCommitted bool, run func(result any, cmd string, args ...string)) {
	t.Helper()
	prod := plainProducer(t, b)
	adm := kadm.NewClient(prod)
	const (
		partitions = 4
		first      = 10
		second     = 5
	)
	topic, group := name, name
	createTopic(t, adm, topic, partitions)
	waitGroupCoordinator(t, adm, group)

	want := produceRound(t, prod, topic, partitions, first, "first")
	var split struct {
		Members []interopMember `json:"members"`
	}
	run(&split, "group", topic, group, "40")
	got := checkSplit(t, topic, partitions, split.Members)
	sameMessages(t, "two "+client+" consumers in one group", got, want)
	end := map[int32]int64{}
	for p := range int32(partitions) {
		end[p] = first
	}
	wantCommitted(t, adm, group, topic, end)

	want = produceRound(t, prod, topic, partitions, second, "second")
	var resumed struct {
		Records         [][3]any         `json:"records"`
		CommittedBefore map[string]int64 `json:"committed_before"`
	}
	run(&resumed, "resume", topic, group, "20")
	got = map[tp]map[int64]string{}
	addRecords(t, got, topic, resumed.Records)
	sameMessages(t, "a new "+client+" consumer resuming the group", got, want)
	for p := range int32(partitions) {
		if c := resumed.CommittedBefore[strconv.Itoa(int(p))]; reportsCommitted && c != first {
			t.Errorf("the new consumer saw partition %d committed at %d, want %d", p, c, first)
		}
		end[p] = first + second
	}
	wantCommitted(t, adm, group, topic, end)
}
