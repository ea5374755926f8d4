package main

// The kill -9 crash test (issue 3; reliability.md §6.3 S1 and S4): an
// idempotent kgo producer with acks=all writes numbered records to a
// 4-partition topic while the real binary is killed with SIGKILL at random
// moments — every other one just after a Produce request left the client,
// so that batches the broker appended but never answered are resent to the
// restarted broker — and restarted on the same port and data directory; the
// producer's retries carry on across the restarts. At the end every
// acknowledged record must be in the log exactly once at the offset it was
// acknowledged with, no record may appear twice, offsets are contiguous,
// the producer saw no errors, and every batch on disk passes its CRC.
//
//	go test ./cmd/basket -run TestCrash -crash.cycles=50 -v
//
// runs more cycles; -crash.seed replays the kill timing of an earlier run.
// TestCrash_RetryAfterKillIsDeduplicated checks the resend path
// deterministically.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/record"
)

var (
	crashCycles = flag.Int("crash.cycles", 10, "kill -9 cycles in TestCrash_KillNineKeepsAcknowledgedRecords")
	crashSeed   = flag.Uint64("crash.seed", 0, "seed for the kill timing of the crash test (0: random)")
)

const (
	crashTopic      = "crash"
	crashPartitions = 4
)

// brokerProcess is one run of basket serve.
type brokerProcess struct {
	cmd     *exec.Cmd
	started time.Duration // from exec to "listening"
}

// startServe starts basket serve and returns once it listens. Its stderr is
// appended to logPath, which the test prints if it fails.
func startServe(t *testing.T, bin, addr, dir, logPath string) *brokerProcess {
	t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", dir)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := sc.Scan() && strings.Contains(sc.Text(), "listening on "+addr)
		listening <- ok
		for sc.Scan() {
		}
	}()
	select {
	case ok := <-listening:
		if !ok {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("basket serve did not start:\n%s", readLog(logPath))
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("basket serve not listening after 60s:\n%s", readLog(logPath))
	}
	return &brokerProcess{cmd: cmd, started: time.Since(begin)}
}

func (p *brokerProcess) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

func readLog(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 8<<10 {
		b = b[len(b)-8<<10:]
	}
	return string(b)
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ack is where the broker said a record landed.
type ack struct {
	partition int32
	offset    int64
}

// crashProducer produces numbered records in the background and keeps what
// was acknowledged.
type crashProducer struct {
	cl   *kgo.Client
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	produced int
	acked    map[string]ack
	failed   []error
}

func startCrashProducer(cl *kgo.Client) *crashProducer {
	p := &crashProducer{cl: cl, stop: make(chan struct{}), done: make(chan struct{}), acked: map[string]ack{}}
	go p.run()
	return p
}

// run produces about 2000 records a second, with at most 1000 unresolved
// at a time, until stopped.
func (p *crashProducer) run() {
	defer close(p.done)
	inflight := make(chan struct{}, 1000)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		if i%2 == 0 {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
		select {
		case <-p.stop:
			return
		case inflight <- struct{}{}:
		}
		r := &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: fmt.Appendf(nil, "record-%08d", i)}
		p.mu.Lock()
		p.produced++
		p.mu.Unlock()
		p.cl.Produce(context.Background(), r, func(r *kgo.Record, err error) {
			p.mu.Lock()
			if err != nil {
				p.failed = append(p.failed, fmt.Errorf("%s: %w", r.Value, err))
			} else {
				p.acked[string(r.Value)] = ack{r.Partition, r.Offset}
			}
			p.mu.Unlock()
			<-inflight
		})
	}
}

func (p *crashProducer) ackedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked)
}

// produceWrites signals each Produce request kgo writes to the broker, so a
// kill can land while one is in flight: between the broker appending a
// batch and the producer reading its answer, the window in which a resend
// must be deduplicated (reliability.md S4). That window is short, so kills
// at uniformly random moments rarely hit it.
type produceWrites chan struct{}

func (w produceWrites) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == 0 && err == nil {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

func TestCrash_KillNineKeepsAcknowledgedRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 cycles take about a minute; skipped with -short")
	}
	seed := *crashSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("%d kill -9 cycles, -crash.seed=%d", *crashCycles, seed)

	bin := buildBasket(t)
	addr, dir := freePort(t), t.TempDir()
	logPath := filepath.Join(t.TempDir(), "basket.log")
	proc := startServe(t, bin, addr, dir, logPath)
	defer func() { proc.kill() }()
	defer func() {
		if t.Failed() {
			t.Logf("broker log (tail):\n%s", readLog(logPath))
		}
	}()

	writes := make(produceWrites, 1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(crashTopic), kgo.WithHooks(writes),
		kgo.RequiredAcks(kgo.AllISRAcks()), // the default, with idempotence
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, crashPartitions, 1, nil, crashTopic); err != nil {
		t.Fatal(err)
	}

	prod := startCrashProducer(cl)
	var recoveries []time.Duration
	for cycle := range *crashCycles {
		before := prod.ackedCount()
		waitFor(t, 60*time.Second, fmt.Sprintf("acknowledgements after restart %d", cycle), func() bool { return prod.ackedCount() >= before+100 })
		time.Sleep(time.Duration(200+rng.IntN(1800)) * time.Millisecond) // a random moment to kill at
		// Every other kill lands just after a produce request left.
		if cycle%2 == 0 {
			select {
			case <-writes:
			default:
			}
			select {
			case <-writes:
			case <-time.After(5 * time.Second):
			}
			time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
		}
		proc.kill()
		proc = startServe(t, bin, addr, dir, logPath)
		recoveries = append(recoveries, proc.started)
	}
	before := prod.ackedCount()
	waitFor(t, 60*time.Second, "acknowledgements after the last restart", func() bool { return prod.ackedCount() >= before+100 })
	close(prod.stop)
	<-prod.done
	flushCtx, flushCancel := context.WithTimeout(ctx, 60*time.Second)
	defer flushCancel()
	if err := cl.Flush(flushCtx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	cl.Close()

	prod.mu.Lock()
	defer prod.mu.Unlock()
	if len(prod.failed) > 0 {
		t.Errorf("%d of %d records failed to produce (reliability.md S4: no spurious sequence or fatal errors); first: %v",
			len(prod.failed), prod.produced, prod.failed[:min(5, len(prod.failed))])
	}

	logged, dups := consumeAll(t, ctx, addr)
	lost := checkCrashLog(t, prod.acked, logged)

	// A clean stop, then every batch on disk must pass its CRC.
	proc.cmd.Process.Signal(syscall.SIGTERM)
	if err := proc.cmd.Wait(); err != nil {
		t.Fatalf("shutdown after the crash cycles: %v", err)
	}
	batches := checkSegmentFiles(t, dir)

	slices.Sort(recoveries)
	unacked := 0
	for v := range logged {
		if _, ok := prod.acked[v]; !ok {
			unacked++
		}
	}
	t.Logf("%d kill -9 cycles: %d records produced, %d acknowledged, %d acknowledged lost or moved, %d duplicates; %d unacknowledged records in the log; %d batches on disk pass their CRC; restart to listening p50 %v, max %v",
		*crashCycles, prod.produced, len(prod.acked), lost, dups, unacked, batches,
		percentile(recoveries, 50), percentile(recoveries, 100))
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, len(d)*p/100)]
}

// consumeAll reads every partition of the crash topic from the start to its
// end, failing on a gap in the offsets and reporting each value that
// appears twice. It returns where each value is and the duplicate count.
func consumeAll(t *testing.T, ctx context.Context, addr string) (map[string]ack, int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, crashTopic)
	if err != nil {
		t.Fatal(err)
	}
	offsets := map[int32]kgo.Offset{}
	next := map[int32]int64{}
	remaining := 0
	for p := range int32(crashPartitions) {
		end, ok := ends.Lookup(crashTopic, p)
		if !ok || end.Err != nil {
			t.Fatalf("end offset of partition %d: %v", p, end.Err)
		}
		offsets[p] = kgo.NewOffset().AtStart()
		next[p] = 0
		remaining += int(end.Offset)
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{crashTopic: offsets})
	logged := map[string]ack{}
	dups := 0
	for remaining > 0 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("consuming after the crash cycles (%d records left): %v", remaining, err)
		}
		for _, r := range fs.Records() {
			if r.Offset != next[r.Partition] {
				t.Fatalf("partition %d: offset %d follows %d", r.Partition, r.Offset, next[r.Partition]-1)
			}
			next[r.Partition]++
			if prev, dup := logged[string(r.Value)]; dup {
				dups++
				t.Errorf("%s appears twice: partition %d offset %d and partition %d offset %d", r.Value, prev.partition, prev.offset, r.Partition, r.Offset)
			}
			logged[string(r.Value)] = ack{r.Partition, r.Offset}
			remaining--
		}
	}
	return logged, dups
}

// checkCrashLog checks that every acknowledged record is in the log where it
// was acknowledged, and returns how many are missing or elsewhere.
func checkCrashLog(t *testing.T, acked, logged map[string]ack) int {
	t.Helper()
	var lost, moved []string
	for v, a := range acked {
		switch got, ok := logged[v]; {
		case !ok:
			lost = append(lost, fmt.Sprintf("%s (acknowledged at %d/%d)", v, a.partition, a.offset))
		case got != a:
			moved = append(moved, fmt.Sprintf("%s acknowledged at %d/%d, found at %d/%d", v, a.partition, a.offset, got.partition, got.offset))
		}
	}
	sort.Strings(lost)
	sort.Strings(moved)
	if len(lost) > 0 {
		t.Errorf("%d of %d acknowledged records lost, e.g. %v", len(lost), len(acked), lost[:min(10, len(lost))])
	}
	if len(moved) > 0 {
		t.Errorf("%d acknowledged records at other offsets, e.g. %v", len(moved), moved[:min(10, len(moved))])
	}
	return len(lost) + len(moved)
}

// checkSegmentFiles walks every segment of the crash topic's partitions
// and checks that each holds whole batches that pass Validate, with offsets
// that continue from one batch to the next. It returns the batch count.
func checkSegmentFiles(t *testing.T, dir string) int {
	t.Helper()
	batches := 0
	for p := range crashPartitions {
		segments, err := filepath.Glob(filepath.Join(dir, fmt.Sprintf("%s-%d", crashTopic, p), "*.log"))
		if err != nil || len(segments) == 0 {
			t.Fatalf("partition %d: no segments (%v)", p, err)
		}
		sort.Strings(segments) // zero-padded base offsets sort in offset order
		next := int64(-1)
		for _, seg := range segments {
			data, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			for pos := 0; pos < len(data); {
				h, err := record.ParseHeader(data[pos:])
				if err == nil && h.Size() > int64(len(data)-pos) {
					err = errors.New("batch runs past the end of the file")
				}
				if err == nil {
					_, err = record.Validate(data[pos : pos+int(h.Size())])
				}
				if err != nil {
					t.Fatalf("%s: corrupt batch at byte %d: %v", seg, pos, err)
				}
				if next >= 0 && h.BaseOffset != next {
					t.Fatalf("%s: batch at byte %d starts at offset %d, the previous one ended before %d", seg, pos, h.BaseOffset, next)
				}
				next = h.NextOffset()
				pos += int(h.Size())
				batches++
			}
		}
	}
	return batches
}

// idempotentBatch is a batch of n records of producer (id, epoch) starting
// at sequence seq, with values tag-0, tag-1, ...
func idempotentBatch(t *testing.T, id int64, epoch int16, seq int32, tag string, n int) []byte {
	t.Helper()
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{Value: fmt.Appendf(nil, "%s-%d", tag, i)}
	}
	b, err := record.AppendBatch(nil, record.BatchSpec{BaseTimestamp: time.Now().UnixMilli(),
		ProducerID: id, ProducerEpoch: epoch, BaseSequence: seq}, recs, record.CodecNone)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// produceBatch sends one batch with acks=all and returns the partition's
// answer.
func produceBatch(t *testing.T, ctx context.Context, cl *kgo.Client, batch []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = crashTopic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("produce: %v", err)
	}
	return resp.Topics[0].Partitions[0]
}

// An idempotent producer whose batch was appended but whose answer the
// crash swallowed resends it to the restarted broker: the broker, having
// rebuilt the producer's state from the log, must answer it with the
// original offsets rather than append it again (reliability.md S4; Kafka
// keeps the last 5 batches per producer, protocol.md §5.5). The random kill
// moments of the test above rarely land in that window; this test makes it
// certain.
func TestCrash_RetryAfterKillIsDeduplicated(t *testing.T) {
	bin := buildBasket(t)
	addr, dir := freePort(t), t.TempDir()
	logPath := filepath.Join(t.TempDir(), "basket.log")
	proc := startServe(t, bin, addr, dir, logPath)
	defer func() { proc.kill() }()
	defer func() {
		if t.Failed() {
			t.Logf("broker log (tail):\n%s", readLog(logPath))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, crashTopic); err != nil {
		t.Fatal(err)
	}
	initResp, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, cl)
	if err != nil || initResp.ErrorCode != 0 {
		t.Fatalf("InitProducerID: %v %v", err, initResp)
	}
	id, epoch := initResp.ProducerID, initResp.ProducerEpoch

	// Seven batches of 3 records: the broker retains the last five.
	var batches [][]byte
	for i := range 7 {
		b := idempotentBatch(t, id, epoch, int32(3*i), fmt.Sprint("batch", i), 3)
		if p := produceBatch(t, ctx, cl, slices.Clone(b)); p.ErrorCode != 0 || p.BaseOffset != int64(3*i) {
			t.Fatalf("batch %d: error %d at offset %d", i, p.ErrorCode, p.BaseOffset)
		}
		batches = append(batches, b)
	}
	proc.kill()
	proc = startServe(t, bin, addr, dir, logPath)

	for i := 2; i < 7; i++ { // the retained five, resent after the crash
		p := produceBatch(t, ctx, cl, slices.Clone(batches[i]))
		if p.ErrorCode != 0 || p.BaseOffset != int64(3*i) {
			t.Errorf("batch %d resent after kill -9: error %d at offset %d, want success at its original offset %d", i, p.ErrorCode, p.BaseOffset, 3*i)
		}
	}
	next := idempotentBatch(t, id, epoch, 21, "batch7", 3)
	if p := produceBatch(t, ctx, cl, next); p.ErrorCode != 0 || p.BaseOffset != 21 {
		t.Fatalf("the next batch after the resends: error %d at offset %d, want offset 21", p.ErrorCode, p.BaseOffset)
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, crashTopic)
	if err != nil {
		t.Fatal(err)
	}
	if end, _ := ends.Lookup(crashTopic, 0); end.Offset != 24 {
		t.Fatalf("log end offset %d, want 24: resent batches were appended again", end.Offset)
	}
}
