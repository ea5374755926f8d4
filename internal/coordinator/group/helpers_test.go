package group

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var t0 = time.Unix(1_700_000_000, 0)

// seeded is a deterministic source of member ids.
type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.InitialRebalanceDelay = 0
	cfg.Rand = seeded{rand.NewChaCha8([32]byte{1})}
	return cfg
}

// harness drives a Coordinator the way its owner does: it keeps every
// record written (the partition), routes replies by ref and checks that
// each request is answered at most once and every response encodes.
type harness struct {
	t       testing.TB
	clk     *clock.Fake
	c       *Coordinator
	log     []Record
	answers map[int]kmsg.Response
	next    int
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, clk: clock.NewFake(t0), answers: make(map[int]kmsg.Response)}
	h.c = New(h.clk, cfg)
	h.take(h.c.Loaded(), 0)
	return h
}

// take records a Result of the request with ref (0: none).
func (h *harness) take(r Result, ref int) Result {
	h.t.Helper()
	h.log = append(h.log, r.Records...)
	if r.Response != nil {
		h.answer(ref, r.Response)
	}
	for _, rp := range r.Replies {
		h.answer(rp.Ref.(int), rp.Response)
	}
	return r
}

func (h *harness) answer(ref int, resp kmsg.Response) {
	h.t.Helper()
	_ = resp.AppendTo(nil) // must encode at its version
	if ref == 0 {
		return
	}
	if _, dup := h.answers[ref]; dup {
		h.t.Fatalf("request %d answered twice", ref)
	}
	h.answers[ref] = resp
}

func (h *harness) caller() Caller {
	h.next++
	return Caller{ClientID: "client", ClientHost: "/127.0.0.1", Ref: h.next}
}

// advance moves the clock and runs the timers.
func (h *harness) advance(d time.Duration) Result {
	h.t.Helper()
	h.clk.Advance(d)
	return h.take(h.c.Tick(), 0)
}

// runUntil moves the clock to t0+d, stopping at every deadline on the way
// to run it on time, as an owner with a timer armed at NextDeadline does.
func (h *harness) runUntil(d time.Duration) {
	h.t.Helper()
	end := t0.Add(d)
	for {
		at, ok := h.c.NextDeadline()
		if !ok || at.After(end) {
			break
		}
		h.clk.Set(at)
		h.take(h.c.Tick(), 0)
	}
	h.clk.Set(end)
	h.take(h.c.Tick(), 0)
}

func (h *harness) group(id string) *group { return h.c.groups[id] }

func wantCode(t testing.TB, what string, got int16, want *kerr.Error) {
	t.Helper()
	var wantCode int16
	if want != nil {
		wantCode = want.Code
	}
	if got != wantCode {
		t.Fatalf("%s: error %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}

func (m *tm) String() string { return fmt.Sprintf("%s/%s", m.group, m.memberID) }
