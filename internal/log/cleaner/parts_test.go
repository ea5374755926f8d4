package cleaner

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

func TestOffsetMap_GrowsUpToItsBufferThenFills(t *testing.T) {
	m := newOffsetMap(10_000 * bytesPerEntry) // 10,000 slots, 9,000 keys
	for i := range 9000 {
		if _, ok := m.put([]byte("k"+strconv.Itoa(i)), int64(i)); !ok {
			t.Fatalf("full after %d keys", i)
		}
	}
	if _, ok := m.put([]byte("one more"), 1); ok {
		t.Fatal("put past the load factor of the dedupe buffer")
	}
	if prev, ok := m.put([]byte("k7"), 99_999); !ok || prev != 7 || m.get([]byte("k7")) != 99_999 {
		t.Fatal("a full map must still update a key it holds")
	}
	if len(m.offsets) > 10_000 {
		t.Fatalf("map grew to %d slots, over its buffer", len(m.offsets))
	}
	for i := range 9000 {
		if i != 7 && m.get([]byte("k"+strconv.Itoa(i))) != int64(i) {
			t.Fatalf("key %d lost", i)
		}
	}
	if m.get([]byte("absent")) != -1 {
		t.Fatal("absent key found")
	}
	m.clear()
	if m.size != 0 || m.get([]byte("k1")) != -1 {
		t.Fatal("clear kept keys")
	}
}

func TestThrottler_LimitsBytesPerSecond(t *testing.T) {
	clk := clock.NewFake(t0)
	th := newThrottler(1000, clk) // 1000 bytes/s
	quit := make(chan struct{})
	th.maybeThrottle(100, quit) // within the first check period: no wait
	clk.Advance(throttleCheck)
	done := make(chan struct{})
	go func() {
		th.maybeThrottle(1900, quit) // 2000 bytes in 300 ms: wait until 2 s
		close(done)
	}()
	waitFor(t, "the throttler to sleep", func() bool { return clk.Timers() > 0 })
	select {
	case <-done:
		t.Fatal("did not throttle")
	default:
	}
	clk.Advance(1700 * time.Millisecond)
	<-done
	// A dynamic change lifts the limit for the next bytes.
	th.setRate(math.Inf(1))
	clk.Advance(throttleCheck)
	th.maybeThrottle(1<<30, quit)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCleaner_PicksTheDirtiestLog(t *testing.T) {
	d := openDir(t, vfs.NewFaultFS(), "/data", clock.NewFake(t0))
	defer d.Close()
	little := mustCreate(t, d, "little")
	much := mustCreate(t, d, "much")
	fill(t, little, record.CodecNone, t0.UnixMilli(), 100, 120, 6) // mostly unique keys
	fill(t, much, record.CodecNone, t0.UnixMilli(), 3, 300, 6)
	sealAll(t, little, t0.UnixMilli())
	sealAll(t, much, t0.UnixMilli())
	c := newCleaner(t, d, Options{})
	// Both are wholly dirty (ratio 1); after one clean of each, only new
	// updates make a log dirty again.
	c.CleanOnce()
	c.CleanOnce()
	fill(t, much, record.CodecNone, t0.UnixMilli(), 3, 300, 6)
	sealAll(t, much, t0.UnixMilli())
	fill(t, little, record.CodecNone, t0.UnixMilli(), 100, 12, 6)
	sealAll(t, little, t0.UnixMilli())
	rMuch, rLittle := c.DirtyRatio(much), c.DirtyRatio(little)
	if rMuch <= rLittle {
		t.Fatalf("dirty ratios: much %v, little %v", rMuch, rLittle)
	}
	if ok, err := c.CleanOnce(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if st, _ := c.Stats(much.TopicPartition()); st.DirtyRatio != rMuch {
		t.Fatalf("cleaned the less dirty log first: %+v", st)
	}
}

func TestCleaner_BackgroundThreadsCleanEveryLog(t *testing.T) {
	d := openDir(t, vfs.NewFaultFS(), "/data", clock.Real)
	defer d.Close()
	var logs []*log.Log
	for i := range 3 {
		l := mustCreate(t, d, "bg"+strconv.Itoa(i))
		fill(t, l, record.CodecZstd, time.Now().UnixMilli(), 10, 300, 5)
		sealAll(t, l, time.Now().UnixMilli())
		logs = append(logs, l)
	}
	c := newCleaner(t, d, Options{Threads: 2, Backoff: 5 * time.Millisecond})
	c.Start()
	defer c.Close()
	waitFor(t, "every log cleaned", func() bool {
		for _, l := range logs {
			if _, ok := c.Stats(l.TopicPartition()); !ok {
				return false
			}
		}
		return true
	})
}

// TestCleaner_TruncationDuringCleaningAbortsTheSwap truncates the log (as a
// follower does) while a clean is writing its segments: nothing is swapped
// and the .cleaned files go.
func TestCleaner_TruncationDuringCleaningAbortsTheSwap(t *testing.T) {
	fs := vfs.NewFaultFS()
	d := openDir(t, fs, "/data", clock.NewFake(t0))
	defer d.Close()
	l := mustCreate(t, d, "c")
	fill(t, l, record.CodecNone, t0.UnixMilli(), 10, 300, 5)
	sealAll(t, l, t0.UnixMilli())
	cut := l.Segments()[2].BaseOffset + 1
	var once sync.Once
	fs.SetHook(func(op vfs.Op, path string) error {
		if op == vfs.OpOpen && strings.HasSuffix(path, ".cleaned") {
			once.Do(func() {
				if err := l.TruncateTo(cut); err != nil {
					t.Errorf("TruncateTo: %v", err)
				}
			})
		}
		return nil
	})
	c := newCleaner(t, d, Options{})
	if _, err := c.CleanLog(l); !errors.Is(err, log.ErrCleaningAborted) {
		t.Fatalf("clean across a truncation: %v, want ErrCleaningAborted", err)
	}
	fs.SetHook(nil)
	if l.LogEndOffset() > cut {
		t.Fatalf("log end %d after truncating to %d", l.LogEndOffset(), cut)
	}
	for _, name := range fileNames(t, fs, "/data/c-0") {
		if strings.HasSuffix(name, ".cleaned") {
			t.Fatalf("left %s", name)
		}
	}
	got := readAll(t, l)
	if len(got) == 0 || got[len(got)-1].offset >= cut {
		t.Fatalf("records after the cut: %+v", got[len(got)-1])
	}
}

// TestCleaner_CheckpointSurvivesClose checks the cleaner-offset-checkpoint:
// written after a clean (by the writer goroutine, at the latest by Close),
// a new cleaner on the same directory finds the log clean (without it, the
// whole log would be dirty).
func TestCleaner_CheckpointSurvivesClose(t *testing.T) {
	fsKinds(t, func(t *testing.T, fs vfs.FS, dir string) {
		d := openDir(t, fs, dir, clock.NewFake(t0))
		defer d.Close()
		l := mustCreate(t, d, "c")
		fill(t, l, record.CodecNone, t0.UnixMilli(), 10, 500, 10)
		sealAll(t, l, t0.UnixMilli())
		c := newCleaner(t, d, Options{})
		if r := c.DirtyRatio(l); r != 1 {
			t.Fatalf("dirty ratio %v before the first clean, want 1", r)
		}
		if ok, err := c.CleanLog(l); !ok || err != nil {
			t.Fatalf("CleanLog: %v %v", ok, err)
		}
		c.Close()
		c2 := newCleaner(t, d, Options{})
		if r := c2.DirtyRatio(l); r != 0 {
			t.Fatalf("dirty ratio %v after the clean, want 0", r)
		}
	})
}

// TestCleaner_BatchLivenessMatchesRecordByRecord cleans the same random logs
// twice, with batch liveness (live.go) and with it turned off so that every
// batch is filtered record by record: the cleaned segments must be the same
// bytes. The logs mix keys updated within a batch and across batches,
// tombstones, records without a key, and dedupe buffers small enough for
// several passes.
func TestCleaner_BatchLivenessMatchesRecordByRecord(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			var logs [2][][]byte
			for i, tracking := range []bool{true, false} {
				rng := rand.New(rand.NewPCG(seed, 7))
				d := openDir(t, vfs.NewFaultFS(), "/data", clock.NewFake(t0))
				l := mustCreate(t, d, "c")
				keys := 5 + rng.IntN(60)
				for range 150 + rng.IntN(150) {
					var recs []kv
					for range 1 + rng.IntN(8) {
						r := kv{key: "k" + strconv.Itoa(rng.IntN(keys)), value: strings.Repeat("v", rng.IntN(80))}
						switch rng.IntN(20) {
						case 0:
							r.null = true
						case 1:
							r.key = ""
						}
						recs = append(recs, r)
					}
					appendBatch(t, l, recs)
				}
				sealAll(t, l, t0.UnixMilli())
				buffer := int64(1 << 20)
				if seed%3 == 0 {
					buffer = int64(keys/3+1) * bytesPerEntry * liveShare / (liveShare - 1)
				}
				c := newCleaner(t, d, Options{DedupeBufferSize: buffer})
				if !tracking {
					w := <-c.workers
					w.live.max = 0
					c.workers <- w
				}
				passes := 0
				for ; passes <= 100; passes++ {
					ok, err := c.CleanOnce()
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						break
					}
				}
				if seed%3 == 0 && passes < 2 {
					t.Fatalf("%d passes with a map of %d keys for %d", passes, keys/3+1, keys)
				}
				for _, s := range l.Segments() {
					b := make([]byte, s.Size)
					if _, err := s.ReadAt(b, 0); err != nil && s.Size > 0 {
						t.Fatal(err)
					}
					logs[i] = append(logs[i], b)
				}
				d.Close()
			}
			if len(logs[0]) != len(logs[1]) {
				t.Fatalf("%d segments with batch liveness, %d without", len(logs[0]), len(logs[1]))
			}
			for i := range logs[0] {
				if !bytes.Equal(logs[0][i], logs[1][i]) {
					t.Fatalf("segment %d differs with batch liveness", i)
				}
			}
		})
	}
}

// appendBatch appends recs as one batch; a kv with an empty key has a null
// key.
func appendBatch(t *testing.T, l *log.Log, recs []kv) {
	t.Helper()
	rs := make([]record.Record, len(recs))
	for i, r := range recs {
		rs[i] = record.Record{OffsetDelta: int32(i)}
		if r.key != "" {
			rs[i].Key = []byte(r.key)
		}
		if !r.null {
			rs[i].Value = []byte(r.value)
		}
	}
	spec := record.BatchSpec{BaseTimestamp: t0.UnixMilli(), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
	b, err := record.AppendBatch(nil, spec, rs, record.CodecNone)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(b, 1); err != nil {
		t.Fatal(err)
	}
}
