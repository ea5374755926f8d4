package log

import (
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
