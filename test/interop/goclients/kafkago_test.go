package goclients

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// kafkagoMessages turns test records into kafka-go messages.
func kafkagoMessages(recs []testRecord) []kafka.Message {
	msgs := make([]kafka.Message, len(recs))
	for i, r := range recs {
		msgs[i] = kafka.Message{Key: r.Key, Value: r.Value}
		for _, h := range r.Headers {
			msgs[i].Headers = append(msgs[i].Headers, kafka.Header{Key: h[0], Value: []byte(h[1])})
		}
	}
	return msgs
}

// fromKafkago turns a message read by kafka-go into a testRecord.
func fromKafkago(m kafka.Message) testRecord {
	r := testRecord{Key: m.Key, Value: m.Value}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, [2]string{h.Key, string(h.Value)})
	}
	return r
}

// kafkagoCodec is kafka-go's Compression for a codec of codecs (0: none).
func kafkagoCodec(name string) kafka.Compression {
	return map[string]kafka.Compression{"gzip": kafka.Gzip, "snappy": kafka.Snappy, "lz4": kafka.Lz4, "zstd": kafka.Zstd}[name]
}

// kafkagoTransport is a Transport of the test's own. kafka-go's
// DefaultTransport is shared by every Writer and Client in the process and
// answers metadata from a cache (kafka.Transport.MetadataTTL, 6s): a topic
// created after that cache was filled is UNKNOWN_TOPIC_OR_PARTITION to
// them, against Apache Kafka too.
func kafkagoTransport(t *testing.T) *kafka.Transport {
	tr := &kafka.Transport{ClientID: "kafka-go-" + strings.ReplaceAll(t.Name(), "/", "-")}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// TestKafkago_WriterCodecs writes with kafka.Writer, acks=all, for every
// codec and checks with kgo
// that each batch is stored with that codec and the records read back
// identical.
func TestKafkago_WriterCodecs(t *testing.T) {
	b := startBroker(t)
	for _, c := range codecs {
		t.Run(c.Name, func(t *testing.T) {
			topic := "kafkago-writer-" + c.Name
			createTopic(t, b, topic, 1, nil)
			w := &kafka.Writer{
				Addr: kafka.TCP(b.Addr), Topic: topic, Transport: kafkagoTransport(t),
				RequiredAcks: kafka.RequireAll, Compression: kafkagoCodec(c.Name),
				BatchSize: 50, BatchTimeout: 10 * time.Millisecond,
				WriteTimeout: 30 * time.Second, ReadTimeout: 30 * time.Second,
			}
			defer w.Close()
			want := testRecords(topic, 200)
			msgs := kafkagoMessages(want)
			ctx := testCtx(t, 60*time.Second)
			// Three calls of 50 (one batch each), then one record per
			// call. One call at a time keeps the order fixed.
			for _, part := range [][]kafka.Message{msgs[:50], msgs[50:100], msgs[100:150]} {
				if err := w.WriteMessages(ctx, part...); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			for _, m := range msgs[150:] {
				if err := w.WriteMessages(ctx, m); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			if s := w.Stats(); s.Messages != int64(len(want)) || s.Errors != 0 {
				t.Errorf("writer stats: %d messages, %d errors", s.Messages, s.Errors)
			}
			checkStored(t, b, topic, want, c.ID)
		})
	}
}

// TestKafkago_PartitionReader reads one partition without a group:
// SetOffset to the middle, ReadMessage to the end with Lag and ReadLag
// checked on the way, Stats, SetOffset(LastOffset) waiting for a new
// record, and SetOffsetAt (ListOffsets by time).
func TestKafkago_PartitionReader(t *testing.T) {
	const n = 20
	b := startBroker(t)
	topic := "kafkago-partition"
	createTopic(t, b, topic, 2, nil)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Partition: 0, Value: fmt.Appendf(nil, "p %d", i), Time: base.Add(time.Duration(i) * time.Second)}
	}
	writeLeader(t, b, topic, 0, msgs...)

	logs := make(chan string, 1000)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{b.Addr}, Topic: topic, Partition: 0,
		MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 100 * time.Millisecond,
		Logger: kafka.LoggerFunc(func(format string, args ...any) {
			select {
			case logs <- fmt.Sprintf(format, args...):
			default:
			}
		}),
	})
	defer r.Close()
	ctx := testCtx(t, 60*time.Second)
	if err := r.SetOffset(5); err != nil {
		t.Fatal(err)
	}
	for i := 5; i < n; i++ {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if m.Offset != int64(i) || string(m.Value) != fmt.Sprintf("p %d", i) || m.Partition != 0 || !m.Time.Equal(base.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("read %d: offset %d partition %d value %q time %v", i, m.Offset, m.Partition, m.Value, m.Time)
		}
		if m.HighWaterMark != n {
			t.Errorf("read %d: high watermark %d, want %d", i, m.HighWaterMark, n)
		}
		if lag := r.Lag(); lag != int64(n-i-1) {
			t.Errorf("after offset %d: Lag %d, want %d", i, lag, n-i-1)
		}
		if i == 10 {
			if lag, err := r.ReadLag(ctx); err != nil || lag != n-11 {
				t.Errorf("after offset 10: ReadLag %d %v, want %d", lag, err, n-11)
			}
		}
	}
	if off := r.Offset(); off != n {
		t.Errorf("Offset after the last record: %d, want %d", off, n)
	}
	if s := r.Stats(); s.Messages != n-5 || s.Topic != topic || s.Partition != "0" || s.Errors != 0 {
		t.Errorf("Stats: %d messages, topic %q, partition %q, %d errors", s.Messages, s.Topic, s.Partition, s.Errors)
	}

	// LastOffset: the next record written.
	if err := r.SetOffset(kafka.LastOffset); err != nil {
		t.Fatal(err)
	}
	type read struct {
		m   kafka.Message
		err error
	}
	got := make(chan read, 1)
	go func() {
		m, err := r.ReadMessage(ctx)
		got <- read{m, err}
	}()
	// Write only once the reader has resolved LastOffset to 20, which it
	// logs; a record written before would move LastOffset past it.
	waitLog(t, logs, fmt.Sprintf("is seeking to offset %d", n))
	writeLeader(t, b, topic, 0, kafka.Message{Value: []byte("new")})
	if g := <-got; g.err != nil || g.m.Offset != n || string(g.m.Value) != "new" {
		t.Errorf("read at LastOffset: offset %d value %q %v, want %d \"new\"", g.m.Offset, g.m.Value, g.err, n)
	}

	// SetOffsetAt: the first record at or after the time.
	if err := r.SetOffsetAt(ctx, base.Add(12*time.Second+time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if m, err := r.ReadMessage(ctx); err != nil || m.Offset != 13 {
		t.Errorf("read after SetOffsetAt(base+12.001s): offset %d %v, want 13", m.Offset, err)
	}
}

// waitLog receives from logs until a line contains want.
func waitLog(t *testing.T, logs <-chan string, want string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l := <-logs:
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no log line %q in 30s", want)
		}
	}
}

// writeLeader writes msgs to one partition through a Conn from
// kafka.DialLeader.
func writeLeader(t *testing.T, b *broker, topic string, partition int, msgs ...kafka.Message) {
	t.Helper()
	conn, err := kafka.DialLeader(testCtx(t, 30*time.Second), "tcp", b.Addr, topic, partition)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.WriteMessages(msgs...); err != nil {
		t.Fatalf("write to %s[%d]: %v", topic, partition, err)
	}
}

// TestKafkago_Conn uses the low-level Conn: CreateTopics on the controller,
// ReadPartitions, WriteCompressedMessagesAt for each codec, ReadOffsets,
// Seek and ReadBatch.
func TestKafkago_Conn(t *testing.T) {
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	conn, err := kafka.DialContext(ctx, "tcp", b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	ctrl, err := conn.Controller()
	if err != nil {
		t.Fatal(err)
	}
	if ctrl.ID != 1 || fmt.Sprintf("%s:%d", ctrl.Host, ctrl.Port) != b.Addr {
		t.Fatalf("controller %+v, want broker 1 at %s", ctrl, b.Addr)
	}
	// The controller is this broker; CreateTopics v2 (kafka-go's Conn
	// negotiates v0-v2) goes to it.
	topic := "kafkago-conn"
	if err := conn.CreateTopics(kafka.TopicConfig{
		Topic: topic, NumPartitions: 3, ReplicationFactor: 1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "3600000"}},
	}); err != nil {
		t.Fatalf("CreateTopics: %v", err)
	}
	// Conn.CreateTopics is idempotent: kafka-go drops TOPIC_ALREADY_EXISTS.
	if err := conn.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: 5, ReplicationFactor: 1}); err != nil {
		t.Errorf("CreateTopics of an existing topic: %v", err)
	}
	var parts []kafka.Partition
	waitFor(t, 30*time.Second, "ReadPartitions to list the new topic", func() bool {
		parts, err = conn.ReadPartitions(topic)
		return err == nil && len(parts) == 3
	})
	for _, p := range parts {
		if p.Topic != topic || p.Leader.ID != 1 || len(p.Replicas) != 1 || len(p.Isr) != 1 {
			t.Errorf("partition %+v", p)
		}
	}

	leader, err := kafka.DialLeader(ctx, "tcp", b.Addr, topic, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer leader.Close()
	leader.SetDeadline(time.Now().Add(60 * time.Second))
	var want []testRecord
	for _, c := range codecs {
		recs := testRecords("conn-"+c.Name, 10)
		_, partition, offset, _, err := leader.WriteCompressedMessagesAt(kafkagoCodec(c.Name).Codec(), kafkagoMessages(recs)...)
		if err != nil {
			t.Fatalf("write %s: %v", c.Name, err)
		}
		if partition != 1 || offset != int64(len(want)) {
			t.Errorf("%s batch written at %d/%d, want 1/%d", c.Name, partition, offset, len(want))
		}
		want = append(want, recs...)
	}
	if first, last, err := leader.ReadOffsets(); err != nil || first != 0 || last != int64(len(want)) {
		t.Errorf("ReadOffsets: %d..%d %v, want 0..%d", first, last, err, len(want))
	}
	for i, r := range readAll(t, b, topic, len(want)) {
		if c := codecs[i/10]; r.Attrs.CompressionType() != c.ID || !equalRecords(fromKgo(r), want[i]) {
			t.Fatalf("offset %d: codec %d %v, want codec %d %v", r.Offset, r.Attrs.CompressionType(), fromKgo(r), c.ID, want[i])
		}
	}

	// Seek into the middle of the gzip batch and ReadBatch to the end.
	if _, err := leader.Seek(15, kafka.SeekAbsolute); err != nil {
		t.Fatal(err)
	}
	batch := leader.ReadBatch(1, 1<<20)
	if batch.HighWaterMark() != int64(len(want)) {
		t.Errorf("batch high watermark %d, want %d", batch.HighWaterMark(), len(want))
	}
	next := int64(15)
	for next < int64(len(want)) {
		m, err := batch.ReadMessage()
		if err != nil {
			break
		}
		if m.Offset != next || !equalRecords(fromKafkago(m), want[next]) {
			t.Fatalf("ReadBatch at %d: offset %d %v, want %v", next, m.Offset, fromKafkago(m), want[next])
		}
		next++
	}
	if err := batch.Close(); err != nil {
		t.Fatalf("batch: %v", err)
	}
	if next == 15 {
		t.Fatal("ReadBatch returned no messages")
	}

	if err := conn.DeleteTopics(topic); err != nil {
		t.Fatalf("DeleteTopics: %v", err)
	}
	// Checked with kadm: kafka-go's ReadPartitions asks for auto-creation.
	waitFor(t, 30*time.Second, "the topic to disappear", func() bool {
		topics, err := kadmClient(t, b).ListTopics(ctx)
		return err == nil && !topics.Has(topic)
	})
}
