package goclients

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// basketBin is the broker binary TestMain builds from ../../../cmd/basket.
var basketBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "basket-goclients-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	basketBin = filepath.Join(dir, "basket")
	args := []string{"build", "-o", basketBin}
	if os.Getenv("BASKET_RACE") != "" { // the broker under the race detector too
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./cmd/basket")...)
	build.Dir = filepath.Join("..", "..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build basket: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// testOverrides are broker settings every test starts with: short enough
// group and internal-topic set-up that the suite stays quick; nothing a
// client can observe beyond timing.
var testOverrides = []string{
	"group.initial.rebalance.delay.ms=0",
	"offsets.topic.num.partitions=5",
	"transaction.state.log.num.partitions=5",
}

// broker is one `basket serve` process on a loopback port with its own
// data directory.
type broker struct {
	Addr string
	cmd  *exec.Cmd
	log  *syncBuffer
}

// startBroker runs `basket serve` on 127.0.0.1:0 with testOverrides and
// then overrides (key=value), waits for the line naming the bound address,
// and registers a cleanup that stops it with SIGTERM (SIGKILL after 30s)
// and fails the test unless it stopped cleanly. If the test failed, the
// broker's stdout and stderr are logged with it.
func startBroker(t *testing.T, overrides ...string) *broker {
	t.Helper()
	args := []string{"serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0"}
	for _, o := range append(slices.Clone(testOverrides), overrides...) {
		args = append(args, "--override", o)
	}
	b := &broker{log: new(syncBuffer)}
	listening := make(chan string, 1)
	b.cmd = exec.Command(basketBin, args...)
	b.cmd.Stdout = &lineWriter{out: b.log, line: func(l string) {
		// "basket: broker 1 listening on 127.0.0.1:40143, data in ..."
		if _, rest, ok := strings.Cut(l, " listening on "); ok {
			addr, _, _ := strings.Cut(rest, ",")
			select {
			case listening <- addr:
			default:
			}
		}
	}}
	b.cmd.Stderr = b.log
	b.cmd.WaitDelay = 10 * time.Second
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start basket: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- b.cmd.Wait() }()
	t.Cleanup(func() { b.stop(t, exited) })
	select {
	case b.Addr = <-listening:
	case err := <-exited:
		exited <- err
		t.Fatalf("basket serve exited before listening: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("basket serve not listening after 60s")
	}
	return b
}

func (b *broker) stop(t *testing.T, exited chan error) {
	t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		err = fmt.Errorf("still running 30s after SIGTERM, killed (%v)", <-exited)
	}
	if err == nil && !strings.Contains(b.log.String(), "stopped cleanly") {
		err = fmt.Errorf("exited without saying it stopped cleanly")
	}
	if err != nil {
		t.Errorf("basket serve: %v", err)
	}
	if t.Failed() {
		t.Logf("basket serve %s output:\n%s", b.Addr, b.log.String())
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// lineWriter copies everything to out and calls line for each complete
// line. exec.Cmd writes to it from one goroutine.
type lineWriter struct {
	out     *syncBuffer
	line    func(string)
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.out.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
}

// testCtx is a context that ends with the test or after d.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// kgoClient is a franz-go client for checking what the client under test
// did; it never creates topics.
func kgoClient(t *testing.T, b *broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func kadmClient(t *testing.T, b *broker) *kadm.Client {
	t.Helper()
	return kadm.NewClient(kgoClient(t, b))
}

// createTopic creates a topic with kadm, replication factor 1.
func createTopic(t *testing.T, b *broker, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	resp, err := kadmClient(t, b).CreateTopic(testCtx(t, 30*time.Second), partitions, 1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// readAll consumes topic from its start with kgo until it has want
// records and fails if a fetch returns more. It cannot see extra records
// after the last one; callers check the end offsets or place what must not
// be read before what must. opts add to the consumer's options (e.g. the
// isolation level).
func readAll(t *testing.T, b *broker, topic string, want int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl := kgoClient(t, b, append([]kgo.Opt{
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, opts...)...)
	ctx := testCtx(t, 60*time.Second)
	var recs []*kgo.Record
	for len(recs) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %d of %d records before the deadline", topic, len(recs), want)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("read %s[%d]: %v", topic, p, err)
		})
		recs = append(recs, fs.Records()...)
	}
	if len(recs) != want {
		t.Fatalf("read %s: %d records, want %d", topic, len(recs), want)
	}
	return recs
}

// endOffsets is the high watermark of every partition of topic.
func endOffsets(t *testing.T, b *broker, topic string) map[int32]int64 {
	t.Helper()
	ends, err := kadmClient(t, b).ListEndOffsets(testCtx(t, 30*time.Second), topic)
	if err != nil {
		t.Fatalf("list end offsets %s: %v", topic, err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset %s[%d]: %v", topic, o.Partition, o.Err)
		}
		out[o.Partition] = o.Offset
	})
	return out
}

// committed is the offset group committed for each partition of topic.
func committed(t *testing.T, b *broker, group, topic string) map[int32]int64 {
	t.Helper()
	offs, err := kadmClient(t, b).FetchOffsets(testCtx(t, 30*time.Second), group)
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	out := map[int32]int64{}
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Err != nil {
			t.Fatalf("offset %s %s[%d]: %v", group, o.Topic, o.Partition, o.Err)
		}
		if o.Topic == topic {
			out[o.Partition] = o.At
		}
	})
	return out
}

// waitFor polls cond every 50ms until it holds, failing the test with what
// after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testRecord is what a test produces and expects back, client-neutral.
type testRecord struct {
	Key, Value []byte
	Headers    [][2]string
}

func (r testRecord) String() string {
	return fmt.Sprintf("key=%q value=%q headers=%q", r.Key, r.Value, r.Headers)
}

// testRecords is n records with keys, compressible values of a few hundred
// bytes and two headers each (one with an empty value); every fifth record
// has a nil key.
func testRecords(prefix string, n int) []testRecord {
	out := make([]testRecord, n)
	for i := range out {
		r := testRecord{
			Value:   []byte(fmt.Sprintf("%s value %d %s", prefix, i, strings.Repeat("abcdefgh", 40))),
			Headers: [][2]string{{"seq", fmt.Sprint(i)}, {"empty", ""}},
		}
		if i%5 != 0 {
			r.Key = []byte(fmt.Sprintf("%s-key-%d", prefix, i))
		}
		out[i] = r
	}
	return out
}

// fromKgo turns a record read by kgo into a testRecord.
func fromKgo(r *kgo.Record) testRecord {
	tr := testRecord{Key: r.Key, Value: r.Value}
	for _, h := range r.Headers {
		tr.Headers = append(tr.Headers, [2]string{h.Key, string(h.Value)})
	}
	return tr
}

// equalRecords reports whether a and b hold the same key (nil and empty
// distinguished), value and headers.
func equalRecords(a, b testRecord) bool {
	return (a.Key == nil) == (b.Key == nil) && bytes.Equal(a.Key, b.Key) &&
		bytes.Equal(a.Value, b.Value) && slices.Equal(a.Headers, b.Headers)
}

// checkStored reads topic (one partition) back with kgo and checks that it
// holds exactly want, in order, every record in a batch compressed with
// codec (kgo's numbering: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). It
// returns the records read.
func checkStored(t *testing.T, b *broker, topic string, want []testRecord, codec uint8) []*kgo.Record {
	t.Helper()
	recs := readAll(t, b, topic, len(want))
	if end := endOffsets(t, b, topic)[0]; end != int64(len(want)) {
		t.Errorf("%s ends at offset %d, want %d", topic, end, len(want))
	}
	for i, r := range recs {
		if got := r.Attrs.CompressionType(); got != codec {
			t.Fatalf("record %d (offset %d) is in a batch with codec %d, want %d", i, r.Offset, got, codec)
		}
		if r.Offset != int64(i) {
			t.Fatalf("record %d at offset %d", i, r.Offset)
		}
		if got := fromKgo(r); !equalRecords(got, want[i]) {
			t.Fatalf("record %d:\n got %v\nwant %v", i, got, want[i])
		}
	}
	return recs
}

// codecs are the record batch codecs, named as Kafka's compression.type.
var codecs = []struct {
	Name string
	ID   uint8 // the batch attributes' codec bits
}{{"none", 0}, {"gzip", 1}, {"snappy", 2}, {"lz4", 3}, {"zstd", 4}}
