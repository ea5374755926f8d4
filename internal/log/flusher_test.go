package log

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/vfs"
)

func TestFlusher_SyncPolicyFlushesEveryAppend(t *testing.T) {
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	mustAppend(t, l, testBatch(3, 10, 1))
	eventually(t, "durable offset 3 without a waiter", func() bool { return l.DurableOffset() == 3 })
}

func TestFlusher_AsyncPolicyFlushesOnFlushMessages(t *testing.T) {
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clock.NewFake(t0), func(o *Options) { o.Durability = DurabilityAsync })
	l := mustCreate(t, d, "t")
	cfg := l.Config()
	cfg.FlushIntervalMessages = 10
	l.SetConfig(cfg)
	mustAppend(t, l, testBatch(9, 10, 1))
	time.Sleep(20 * time.Millisecond) // give a wrong flush the chance to happen
	if l.DurableOffset() != 0 {
		t.Fatalf("flushed at %d messages, below flush.messages", l.DurableOffset())
	}
	mustAppend(t, l, testBatch(1, 10, 1))
	eventually(t, "flush at flush.messages", func() bool { return l.DurableOffset() == 10 })
}

// The Dir parks four loops on the clock: flusher, deleter, checkpoints and
// retention; with all four parked, an Advance reaches the flusher.
func TestFlusher_AsyncPolicyFlushesAfterFlushMs(t *testing.T) {
	clk := clock.NewFake(t0)
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clk, func(o *Options) {
		o.Durability = DurabilityAsync
		o.FlushCheckInterval = time.Second
	})
	l := mustCreate(t, d, "t")
	cfg := l.Config()
	cfg.FlushIntervalMs = 5000
	l.SetConfig(cfg)
	mustAppend(t, l, testBatch(4, 10, 1))
	for range 4 {
		eventually(t, "flusher parked on the clock", func() bool { return clk.Timers() == 4 })
		clk.Advance(time.Second)
	}
	if l.DurableOffset() != 0 {
		t.Fatalf("flushed after 4s, before flush.ms")
	}
	eventually(t, "flusher parked on the clock", func() bool { return clk.Timers() == 4 })
	clk.Advance(time.Second)
	eventually(t, "flush after flush.ms", func() bool { return l.DurableOffset() == 4 })
}

func TestFlusher_AsyncPolicyNeverFlushesByDefault(t *testing.T) {
	clk := clock.NewFake(t0)
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clk, func(o *Options) { o.Durability = DurabilityAsync })
	l := mustCreate(t, d, "t")
	l.SetConfig(DefaultConfig())
	mustAppend(t, l, testBatch(4, 10, 1))
	clk.Advance(time.Hour)
	time.Sleep(20 * time.Millisecond)
	if l.DurableOffset() != 0 {
		t.Fatalf("default async policy flushed")
	}
	mustDurable(t, l, 4) // an explicit wait still gets a flush
}

func TestLog_DurableChangedFiresOnAdvance(t *testing.T) {
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	ch := l.DurableChanged()
	select {
	case <-ch:
		t.Fatal("fired before any advance")
	default:
	}
	mustAppend(t, l, testBatch(1, 1, 1))
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no wake-up after the durable offset advanced")
	}
	if l.DurableOffset() != 1 {
		t.Fatalf("durable offset %d", l.DurableOffset())
	}
}

// syncGate wraps a file system so that syncs of .log files in directories
// it names wait until the gate opens, and counts the syncs in progress.
type syncGate struct {
	vfs.FS
	block   func(name string) bool // whether a sync of this file waits
	open    chan struct{}          // closed to let waiting syncs through
	once    sync.Once
	mu      sync.Mutex
	running int // syncs of blocked files in progress
	most    int // the largest running seen
}

type gatedFile struct {
	vfs.File
	g *syncGate
}

func newSyncGate(fs vfs.FS, block func(name string) bool) *syncGate {
	return &syncGate{FS: fs, block: block, open: make(chan struct{})}
}

func (g *syncGate) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := g.FS.OpenFile(name, flag, perm)
	if err != nil || !strings.HasSuffix(name, ".log") || !g.block(name) {
		return f, err
	}
	return gatedFile{f, g}, nil
}

func (f gatedFile) Sync() error {
	g := f.g
	g.mu.Lock()
	g.running++
	g.most = max(g.most, g.running)
	g.mu.Unlock()
	<-g.open
	g.mu.Lock()
	g.running--
	g.mu.Unlock()
	return f.File.Sync()
}

// release lets every waiting and future sync through.
func (g *syncGate) release() { g.once.Do(func() { close(g.open) }) }

func (g *syncGate) syncing() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.running
}

// A log whose sync is slow does not hold back another log's flushes: the
// flusher has no rounds that wait for their slowest sync.
func TestFlusher_SlowSyncDoesNotHoldBackOtherLogs(t *testing.T) {
	gate := newSyncGate(vfs.NewFaultFS(), func(name string) bool { return strings.Contains(name, "/slow-0/") })
	d := openTestDir(t, gate, "/d", clock.NewFake(t0))
	t.Cleanup(gate.release) // before the Dir closes, even if the test fails
	slow, fast := mustCreate(t, d, "slow"), mustCreate(t, d, "fast")
	mustAppend(t, slow, testBatch(1, 10, 1))
	eventually(t, "the slow log's sync to start", func() bool { return gate.syncing() == 1 })
	for i := range 3 {
		info := mustAppend(t, fast, testBatch(1, 10, 1))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := fast.WaitDurable(ctx, info.LastOffset+1)
		cancel()
		if err != nil {
			t.Fatalf("append %d of the fast log while the slow log syncs: %v", i, err)
		}
	}
	if slow.DurableOffset() != 0 {
		t.Fatalf("slow log durable to %d while its sync is held", slow.DurableOffset())
	}
	gate.release()
	mustDurable(t, slow, 1)
}

// However many logs ask at once, at most maxConcurrentFlushes syncs run
// together, and every log is flushed in the end.
func TestFlusher_BoundsConcurrentSyncs(t *testing.T) {
	gate := newSyncGate(vfs.NewFaultFS(), func(string) bool { return true })
	d := openTestDir(t, gate, "/d", clock.NewFake(t0))
	t.Cleanup(gate.release) // before the Dir closes, even if the test fails
	n := 2*maxConcurrentFlushes + 5
	var logs []*Log
	for p := range n {
		l, err := d.CreateLog(TopicPartition{"many", int32(p)}, smallConfig())
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, l)
		mustAppend(t, l, testBatch(1, 10, 1))
	}
	eventually(t, "the flusher to fill its sync slots", func() bool { return gate.syncing() == maxConcurrentFlushes })
	time.Sleep(20 * time.Millisecond) // give an unbounded flusher the chance to start more
	if got := gate.syncing(); got != maxConcurrentFlushes {
		t.Fatalf("%d syncs running, want %d", got, maxConcurrentFlushes)
	}
	gate.release()
	for _, l := range logs {
		mustDurable(t, l, 1)
	}
	if gate.most != maxConcurrentFlushes {
		t.Fatalf("at most %d syncs ran together, want %d", gate.most, maxConcurrentFlushes)
	}
}
