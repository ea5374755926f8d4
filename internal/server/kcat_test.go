package server

// Interop with librdkafka through the kcat command line tool (Debian's kcat
// 1.7.1 is built on librdkafka 2.0.2, the oldest librdkafka in our client
// matrix, protocol.md §1.1-1.3). librdkafka decides what to send from the
// ApiVersions ranges with checks of its own: it compresses with gzip, snappy
// and lz4 only if the Produce range contains v0 and lz4 only if
// FindCoordinator contains v0 (protocol.md §1.3), and silently sends
// uncompressed batches otherwise. So the codec tests read the batches back
// from the broker's log and check the codec they were stored with, not only
// that the data round-trips.
//
// The tests skip when kcat is not installed; .ci/run installs it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/basketmq/basket/internal/record"
)

// kcatTimeout bounds one kcat run. librdkafka retries a response it cannot
// parse forever, so a consumer started with -e would otherwise never exit.
const kcatTimeout = 30 * time.Second

var (
	kcatVersionOnce sync.Once
	kcatVersion     string
)

// requireKcat skips the test if kcat is missing and logs its version and
// librdkafka's.
func requireKcat(t *testing.T) {
	t.Helper()
	_, version := kcatBinary(t)
	t.Logf("kcat %s", version)
}

// kcatBinary returns the path of kcat and its version line, skipping the
// test if it is missing.
func kcatBinary(t *testing.T) (path, version string) {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat not installed: apt-get install kcat")
	}
	kcatVersionOnce.Do(func() {
		out, _ := exec.Command(path, "-V").CombinedOutput()
		for line := range strings.SplitSeq(string(out), "\n") {
			if strings.HasPrefix(line, "Version") {
				kcatVersion = line
			}
		}
		if kcatVersion == "" {
			kcatVersion = strings.TrimSpace(string(out))
		}
	})
	return path, kcatVersion
}

// protocolErrorWatch collects kcat's stderr and cancels the run shortly
// after the first protocol error librdkafka logs (leaving time for the lines
// that explain it), which it would otherwise retry forever.
type protocolErrorWatch struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cancel context.CancelFunc
	failed bool
}

func (w *protocolErrorWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.failed && bytes.Contains(w.buf.Bytes(), []byte("|PROTOERR|")) {
		w.failed = true
		time.AfterFunc(200*time.Millisecond, w.cancel)
	}
	return len(p), nil
}

func (w *protocolErrorWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// kcat runs kcat against b with stdin and args and returns its stdout and
// stderr. It fails the test if kcat exits with an error, times out, or logs
// a protocol error.
func kcat(t *testing.T, b *Broker, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	bin, _ := kcatBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), kcatTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-b", b.Addr().String()}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	errs := &protocolErrorWatch{cancel: cancel}
	cmd.Stdout, cmd.Stderr = &out, errs
	err := cmd.Run()
	switch {
	case errs.failed:
		log := protocolErrors(errs.String())
		if strings.Contains(log, "MessageSetSize -1") {
			log += "\n(the broker sent a null record set, length -1; librdkafka 2.0 accepts only an empty one, length 0, for a partition without data)"
		}
		t.Fatalf("kcat %s: librdkafka could not parse a response:\n%s", strings.Join(args, " "), log)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("kcat %s: still running after %v\nstderr:\n%s", strings.Join(args, " "), kcatTimeout, errs)
	case err != nil:
		t.Fatalf("kcat %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errs)
	}
	if s := errs.String(); strings.Contains(s, "Delivery failed") || strings.Contains(s, "% ERROR") {
		t.Fatalf("kcat %s reported errors:\n%s", strings.Join(args, " "), s)
	}
	return out.String(), errs.String()
}

// protocolErrors keeps the distinct PROTOERR lines of librdkafka's log.
func protocolErrors(log string) string {
	seen := map[string]bool{}
	var lines []string
	for line := range strings.SplitSeq(log, "\n") {
		if i := strings.Index(line, "|PROTOERR|"); i >= 0 && !seen[line[i:]] {
			seen[line[i:]] = true
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}

// kcatFormat makes kcat -C print one line per message: partition, offset,
// key, value and headers (k=v,k=v), tab-separated.
const kcatFormat = `%p\t%o\t%k\t%s\t%h\n`

// kcatMessage is one message as kcat printed it.
type kcatMessage struct {
	Partition int32
	Offset    int64
	Key       string
	Value     string
	Headers   string
}

// kcatConsume reads the whole topic with kcat -C -e from the beginning.
func kcatConsume(t *testing.T, b *Broker, topic string) []kcatMessage {
	t.Helper()
	out, _ := kcat(t, b, "", "-C", "-t", topic, "-o", "beginning", "-e", "-f", kcatFormat)
	var msgs []kcatMessage
	for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("kcat printed %q, want 5 tab-separated fields", line)
		}
		p, err1 := strconv.ParseInt(f[0], 10, 32)
		o, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("kcat printed %q: bad partition or offset", line)
		}
		msgs = append(msgs, kcatMessage{int32(p), o, f[2], f[3], f[4]})
	}
	sort.Slice(msgs, func(i, j int) bool {
		if msgs[i].Partition != msgs[j].Partition {
			return msgs[i].Partition < msgs[j].Partition
		}
		return msgs[i].Offset < msgs[j].Offset
	})
	return msgs
}

// storedBatches reads every batch of topic-partition back from the broker's
// log, checking each one's CRC.
func storedBatches(t *testing.T, b *Broker, topic string, partition int32) []record.Header {
	t.Helper()
	p, ok := b.replicas.Partition(topic, partition)
	if !ok {
		t.Fatalf("broker hosts no partition %s-%d", topic, partition)
	}
	l := p.Log()
	var headers []record.Header
	for offset := l.LogStartOffset(); offset < l.LogEndOffset(); {
		region, err := l.Read(offset, 1<<20)
		if err != nil {
			t.Fatalf("read %s-%d at %d: %v", topic, partition, offset, err)
		}
		data, err := region.ReadAll()
		if err != nil || len(data) == 0 {
			t.Fatalf("read %s-%d at %d: %d bytes, %v", topic, partition, offset, len(data), err)
		}
		for len(data) > 0 {
			h, err := record.ParseHeader(data)
			if err != nil || h.Size() > int64(len(data)) {
				t.Fatalf("%s-%d: batch at %d does not parse: %v", topic, partition, offset, err)
			}
			if _, err := record.Validate(data[:h.Size()]); err != nil {
				t.Fatalf("%s-%d: stored batch at %d: %v", topic, partition, h.BaseOffset, err)
			}
			headers = append(headers, h)
			data = data[h.Size():]
			offset = h.NextOffset()
		}
	}
	return headers
}

// kcatValue is a value that every codec shrinks, so librdkafka, which
// sends a batch uncompressed when compressing does not help, compresses it.
func kcatValue(i int) string {
	return fmt.Sprintf("message %04d %s", i, strings.Repeat("basket ", 8))
}

func TestKcat_MetadataListsBrokerAndTopics(t *testing.T) {
	requireKcat(t)
	b := startBroker(t, testConfig(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "alpha", 3)
	createTopic(t, adm, "beta", 1)

	text, _ := kcat(t, b, "", "-L")
	if want := "broker 1 at " + b.Addr().String(); !strings.Contains(text, want) {
		t.Fatalf("kcat -L does not list %q:\n%s", want, text)
	}

	out, _ := kcat(t, b, "", "-L", "-J")
	var md struct {
		ControllerID int32 `json:"controllerid"`
		Brokers      []struct {
			ID   int32  `json:"id"`
			Name string `json:"name"`
		} `json:"brokers"`
		Topics []struct {
			Topic      string `json:"topic"`
			Error      string `json:"error"`
			Partitions []struct {
				Partition int32  `json:"partition"`
				Leader    int32  `json:"leader"`
				Error     string `json:"error"`
				Replicas  []struct {
					ID int32 `json:"id"`
				} `json:"replicas"`
				ISRs []struct {
					ID int32 `json:"id"`
				} `json:"isrs"`
			} `json:"partitions"`
		} `json:"topics"`
	}
	if err := json.Unmarshal([]byte(out), &md); err != nil {
		t.Fatalf("kcat -L -J printed %q: %v", out, err)
	}
	if len(md.Brokers) != 1 || md.Brokers[0].ID != 1 || md.Brokers[0].Name != b.Addr().String() || md.ControllerID != 1 {
		t.Fatalf("brokers %+v, controller %d; want broker 1 at %s as controller", md.Brokers, md.ControllerID, b.Addr())
	}
	want := map[string]int{"alpha": 3, "beta": 1}
	got := map[string]int{}
	for _, tp := range md.Topics {
		if tp.Error != "" {
			t.Fatalf("topic %s: error %q", tp.Topic, tp.Error)
		}
		for _, p := range tp.Partitions {
			if p.Error != "" || p.Leader != 1 || len(p.Replicas) != 1 || p.Replicas[0].ID != 1 || len(p.ISRs) != 1 || p.ISRs[0].ID != 1 {
				t.Fatalf("topic %s partition %+v: want leader, replica and ISR broker 1", tp.Topic, p)
			}
		}
		got[tp.Topic] = len(tp.Partitions)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("kcat sees topics %v, want %v", got, want)
	}
}

// Produce with librdkafka 2.0 with each codec and acks=all, read the
// batches back from the log to check they are stored with that codec
// (protocol.md §1.3), then consume with kcat and with kgo.
func TestKcat_ProduceEachCodecStoredCompressed(t *testing.T) {
	requireKcat(t)
	b := startBroker(t, testConfig(t, t.TempDir()))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	const n = 300
	for _, codec := range []record.Codec{record.CodecNone, record.CodecGzip, record.CodecSnappy, record.CodecLZ4, record.CodecZstd} {
		t.Run(codec.String(), func(t *testing.T) {
			topic := "kcat-" + codec.String()
			createTopic(t, adm, topic, 1)
			var in strings.Builder
			for i := range n {
				fmt.Fprintf(&in, "key-%04d:%s\n", i, kcatValue(i))
			}
			// linger.ms keeps the records in one batch; -d msg logs the
			// codec librdkafka chose, for the failure message.
			_, log := kcat(t, b, in.String(), "-P", "-t", topic, "-K:", "-z", codec.String(),
				"-X", "acks=all", "-X", "linger.ms=200", "-H", "origin=kcat", "-H", "codec="+codec.String(), "-d", "msg")

			records := 0
			for _, h := range storedBatches(t, b, topic, 0) {
				if got := h.Attributes.Codec(); got != codec {
					var hints []string
					for line := range strings.SplitSeq(log, "\n") {
						if strings.Contains(line, "compress") {
							hints = append(hints, line)
						}
					}
					t.Fatalf("batch at offset %d is stored with codec %v, kcat asked for %v (protocol.md §1.3: librdkafka 2.0 compresses only if the advertised ranges pass its feature checks):\n%s",
						h.BaseOffset, got, codec, strings.Join(hints, "\n"))
				}
				records += int(h.RecordsCount)
			}
			if records != n {
				t.Fatalf("log holds %d records, kcat produced %d", records, n)
			}

			msgs := kcatConsume(t, b, topic)
			if len(msgs) != n {
				t.Fatalf("kcat consumed %d messages, want %d", len(msgs), n)
			}
			headers := "origin=kcat,codec=" + codec.String()
			for i, m := range msgs {
				want := kcatMessage{0, int64(i), fmt.Sprintf("key-%04d", i), kcatValue(i), headers}
				if m != want {
					t.Fatalf("message %d is %+v, want %+v", i, m, want)
				}
			}

			cons := newClient(t, b, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
			for i := 0; i < n; {
				fs := cons.PollFetches(ctxT(t))
				if err := fs.Err0(); err != nil {
					t.Fatalf("kgo consuming kcat's %v batches: %v", codec, err)
				}
				for _, r := range fs.Records() {
					if string(r.Key) != fmt.Sprintf("key-%04d", i) || string(r.Value) != kcatValue(i) || len(r.Headers) != 2 ||
						r.Headers[0].Key != "origin" || string(r.Headers[0].Value) != "kcat" ||
						r.Headers[1].Key != "codec" || string(r.Headers[1].Value) != codec.String() {
						t.Fatalf("kgo read record %d as %q=%q %v", i, r.Key, r.Value, r.Headers)
					}
					i++
				}
			}
		})
	}
}

// kcat consumes what kgo produced with each codec, keys and headers
// included.
func TestKcat_ConsumesKgoProducedRecords(t *testing.T) {
	requireKcat(t)
	b := startBroker(t, testConfig(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	for name, codec := range codecs {
		t.Run(name, func(t *testing.T) {
			topic := "kgo-" + name
			createTopic(t, adm, topic, 2)
			prod := newClient(t, b, kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(codec), kgo.RequiredAcks(kgo.AllISRAcks()))
			want := map[[2]int64]kcatMessage{}
			for i := range 150 {
				r := &kgo.Record{Key: fmt.Appendf(nil, "k%d", i), Value: []byte(kcatValue(i)),
					Headers: []kgo.RecordHeader{{Key: "n", Value: []byte(strconv.Itoa(i))}}}
				if err := prod.ProduceSync(ctxT(t), r).FirstErr(); err != nil {
					t.Fatal(err)
				}
				want[[2]int64{int64(r.Partition), r.Offset}] = kcatMessage{r.Partition, r.Offset, string(r.Key), string(r.Value), "n=" + strconv.Itoa(i)}
			}
			msgs := kcatConsume(t, b, topic)
			if len(msgs) != len(want) {
				t.Fatalf("kcat consumed %d messages, kgo produced %d", len(msgs), len(want))
			}
			for _, m := range msgs {
				if w := want[[2]int64{int64(m.Partition), m.Offset}]; m != w {
					t.Fatalf("kcat read %+v, kgo produced %+v", m, w)
				}
			}
		})
	}
}

// Several hundred messages in one kcat run, spread over partitions by key:
// every message arrives exactly once, each partition in input order with
// contiguous offsets, and kgo reads the same.
func TestKcat_ManyMessagesInOneRun(t *testing.T) {
	requireKcat(t)
	b := startBroker(t, testConfig(t, t.TempDir()))
	cl := newClient(t, b)
	createTopic(t, kadm.NewClient(cl), "many", 3)
	const n = 600
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "user-%d:event %d\n", i%17, i)
	}
	kcat(t, b, in.String(), "-P", "-t", "many", "-K:", "-X", "acks=all", "-z", "lz4")

	msgs := kcatConsume(t, b, "many")
	if len(msgs) != n {
		t.Fatalf("kcat consumed %d messages, produced %d", len(msgs), n)
	}
	seen := map[string]bool{}
	keyPartition := map[string]int32{}
	next := map[int32]int64{}
	last := map[int32]int{}
	for _, m := range msgs {
		var i int
		if _, err := fmt.Sscanf(m.Value, "event %d", &i); err != nil || m.Key != fmt.Sprintf("user-%d", i%17) || seen[m.Value] {
			t.Fatalf("unexpected or repeated message %+v", m)
		}
		seen[m.Value] = true
		if p, ok := keyPartition[m.Key]; ok && p != m.Partition {
			t.Fatalf("key %s in partitions %d and %d", m.Key, p, m.Partition)
		}
		keyPartition[m.Key] = m.Partition
		if m.Offset != next[m.Partition] {
			t.Fatalf("partition %d: offset %d after %d", m.Partition, m.Offset, next[m.Partition]-1)
		}
		next[m.Partition]++
		if l, ok := last[m.Partition]; ok && i < l {
			t.Fatalf("partition %d: event %d after %d, out of input order", m.Partition, i, l)
		}
		last[m.Partition] = i
	}

	byOffset := map[[2]int64]kcatMessage{}
	for _, m := range msgs {
		byOffset[[2]int64{int64(m.Partition), m.Offset}] = m
	}
	cons := newClient(t, b, kgo.ConsumeTopics("many"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for got := 0; got < n; {
		fs := cons.PollFetches(ctxT(t))
		if err := fs.Err0(); err != nil {
			t.Fatalf("kgo: %v", err)
		}
		for _, r := range fs.Records() {
			want, ok := byOffset[[2]int64{int64(r.Partition), r.Offset}]
			if !ok || want.Key != string(r.Key) || want.Value != string(r.Value) {
				t.Fatalf("kgo read %d/%d %q=%q, kcat read %+v", r.Partition, r.Offset, r.Key, r.Value, want)
			}
			got++
		}
	}
}
