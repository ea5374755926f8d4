package log

import (
	"sync"
	"time"

	"github.com/basketmq/basket/internal/clock"
)

// flusher is a Dir's single group-commit loop. Appenders and waiters ask for
// a flush of their log; the flusher takes every log asked for since its last
// round and syncs them together, in parallel, so that one round's syncs
// share the file system's journal commit. While a round runs, new requests
// collect for the next one: the more load, the more each sync covers.
type flusher struct {
	d       *Dir
	mu      sync.Mutex
	pending map[*Log]struct{}
	wake    chan struct{}
	round   []*Log
}

func newFlusher(d *Dir) *flusher {
	return &flusher{d: d, pending: make(map[*Log]struct{}), wake: make(chan struct{}, 1)}
}

// request asks for l to be flushed in the next round.
func (f *flusher) request(l *Log) {
	f.mu.Lock()
	f.pending[l] = struct{}{}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *flusher) run() {
	defer f.d.wg.Done()
	async := f.d.opts.Durability == DurabilityAsync
	for {
		var t clock.Timer
		var tick <-chan time.Time
		if async {
			t = f.d.clock.NewTimer(f.d.opts.FlushCheckInterval)
			tick = t.C()
		}
		select {
		case <-f.d.quit:
		case <-f.wake:
		case <-tick:
			f.requestDue()
		}
		if t != nil {
			t.Stop()
		}
		select {
		case <-f.d.quit:
			return
		default:
		}
		f.flushPending()
	}
}

// requestDue asks for the logs whose flush.ms has passed (DurabilityAsync),
// and keeps each active segment's page cache within
// PageCacheRetainBytes of its end (segment.dropBehindUnsynced).
func (f *flusher) requestDue() {
	now := f.d.clock.Now().UnixMilli()
	for _, l := range f.d.Logs() {
		l.active().dropBehindUnsynced(f.d.opts.PageCacheRetainBytes)
		ms := l.cfg.Load().FlushIntervalMs
		if l.unflushed.Load() > 0 && now-l.lastFlush.Load() >= ms {
			f.request(l)
		}
	}
	select { // the requests above woke us; this round takes them
	case <-f.wake:
	default:
	}
}

func (f *flusher) flushPending() {
	f.mu.Lock()
	f.round = f.round[:0]
	for l := range f.pending {
		f.round = append(f.round, l)
	}
	clear(f.pending)
	f.mu.Unlock()

	flushOne := func(l *Log) {
		if err := l.flush(); err != nil && !l.closed.Load() {
			f.d.logger.Error("flushing log", "partition", l.tp.String(), "err", err)
		}
	}
	if len(f.round) == 1 {
		flushOne(f.round[0])
		return
	}
	var wg sync.WaitGroup
	for _, l := range f.round {
		wg.Add(1)
		go func() {
			defer wg.Done()
			flushOne(l)
		}()
	}
	wg.Wait()
	clear(f.round)
}
