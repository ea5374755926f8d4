package log

import (
	"sync"
)

// maxConcurrentFlushes bounds the logs being synced at once. Each sync
// holds an OS thread for its duration, so thousands of partitions flushed
// together must not mean thousands of threads (the Go runtime stops at
// 10,000); and the disk gains little beyond a few concurrent syncs (this
// project's test VM: 1.5 GB/s with 4 parallel O_DSYNC writers, the same
// with 8).
const maxConcurrentFlushes = 32

// flusher is a Dir's group commit. Appenders and waiters ask for a flush
// of their log. A log not being flushed starts one at once; a log being
// flushed is marked to flush again when the running flush ends, and
// everything appended meanwhile rides on that one sync: the more load, the
// more each sync covers. Logs do not wait for each other: a log whose sync
// is quick goes on to its next one while another's is still running, and
// concurrent syncs still share the file system's journal commits.
type flusher struct {
	d   *Dir
	sem chan struct{} // a token per running sync

	mu      sync.Mutex
	state   map[*Log]flushState // logs with a flush queued or running
	stopped bool
	wg      sync.WaitGroup // one per log in state
}

// flushState is where a log is in the flusher.
type flushState uint8

const (
	flushRunning flushState = iota + 1 // a flush is queued or running
	flushAgain                         // and another was asked for meanwhile
)

func newFlusher(d *Dir) *flusher {
	return &flusher{d: d, sem: make(chan struct{}, maxConcurrentFlushes), state: make(map[*Log]flushState)}
}

// request asks for l to be flushed: now if it is not being flushed, else
// once more after the running flush.
func (f *flusher) request(l *Log) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return // Dir.Close flushes every log itself
	}
	switch f.state[l] {
	case flushRunning:
		f.state[l] = flushAgain
		return
	case flushAgain:
		return
	}
	f.state[l] = flushRunning
	f.wg.Add(1)
	go f.flushLoop(l)
}

// flushLoop flushes l until no flush was asked for during the last one.
func (f *flusher) flushLoop(l *Log) {
	defer f.wg.Done()
	for {
		f.sem <- struct{}{}
		if err := l.flush(); err != nil && !l.closed.Load() {
			f.d.logger.Error("flushing log", "partition", l.tp.String(), "err", err)
		}
		<-f.sem
		f.mu.Lock()
		if f.state[l] == flushAgain && !f.stopped {
			f.state[l] = flushRunning
			f.mu.Unlock()
			continue
		}
		delete(f.state, l)
		f.mu.Unlock()
		return
	}
}

// stop refuses new requests and waits for the running flushes.
func (f *flusher) stop() {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	f.wg.Wait()
}

// run is the DurabilityAsync timer: every FlushCheckInterval it asks for
// the logs whose flush.ms has passed. Under DurabilitySync every append
// asks for its own flush, and run only waits for the Dir to close.
func (f *flusher) run() {
	defer f.d.wg.Done()
	if f.d.opts.Durability != DurabilityAsync {
		<-f.d.quit
		return
	}
	for {
		t := f.d.clock.NewTimer(f.d.opts.FlushCheckInterval)
		select {
		case <-f.d.quit:
			t.Stop()
			return
		case <-t.C():
			f.requestDue()
		}
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
}
