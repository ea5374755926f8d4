package log

import (
	"sync"
	"time"
)

// deleter removes the files of deleted segments and partitions after
// file.delete.delay.ms, so readers holding a Region on them finish first.
// Files are renamed away (*.deleted, *-delete) before they are queued, so a
// crash before removal leaves names that the next open removes.
type deleter struct {
	d     *Dir
	mu    sync.Mutex
	queue []pendingDelete
	wake  chan struct{}
}

type pendingDelete struct {
	due  time.Time
	segs []*segment
	dir  string // a renamed partition directory to remove, or ""
}

func newDeleter(d *Dir) *deleter { return &deleter{d: d, wake: make(chan struct{}, 1)} }

func (x *deleter) schedule(delayMs int64, segs []*segment, dir string) {
	x.mu.Lock()
	x.queue = append(x.queue, pendingDelete{x.d.clock.Now().Add(time.Duration(delayMs) * time.Millisecond), segs, dir})
	x.mu.Unlock()
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

func (x *deleter) run() {
	defer x.d.wg.Done()
	for {
		wait := x.removeDue(x.d.clock.Now())
		t := x.d.clock.NewTimer(wait)
		select {
		case <-x.d.quit:
			t.Stop()
			return
		case <-x.wake:
			t.Stop()
		case <-t.C():
		}
	}
}

// removeDue removes what is due at now and returns how long until the next.
func (x *deleter) removeDue(now time.Time) time.Duration {
	x.mu.Lock()
	var due []pendingDelete
	next := time.Hour
	kept := x.queue[:0]
	for _, p := range x.queue {
		if !p.due.After(now) {
			due = append(due, p)
			continue
		}
		next = min(next, p.due.Sub(now))
		kept = append(kept, p)
	}
	clear(x.queue[len(kept):])
	x.queue = kept
	x.mu.Unlock()
	for _, p := range due {
		x.remove(p)
	}
	return next
}

func (x *deleter) remove(p pendingDelete) {
	for _, s := range p.segs {
		if p.dir != "" {
			s.close()
			continue
		}
		if err := s.removeDeleted(x.d.fs); err != nil {
			x.d.logger.Warn("removing deleted segment", "dir", s.dir, "base", s.base, "err", err)
		}
	}
	if p.dir != "" {
		if err := x.d.fs.RemoveAll(p.dir); err != nil {
			x.d.logger.Warn("removing deleted partition", "dir", p.dir, "err", err)
		}
	}
}

// drain removes everything queued at once (Dir.Close).
func (x *deleter) drain() {
	x.mu.Lock()
	q := x.queue
	x.queue = nil
	x.mu.Unlock()
	for _, p := range q {
		x.remove(p)
	}
}
