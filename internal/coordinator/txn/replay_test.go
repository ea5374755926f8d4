package txn

import (
	"math/rand"
	"reflect"
	"testing"
	"time"
)

// replayAll loads a fresh coordinator from records.
func replayAll(t testing.TB, h *harness, records []Record) *Coordinator {
	t.Helper()
	c := New(h.clk, h.cfg)
	for i, r := range records {
		if err := c.Replay(r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	c.Loaded()
	return c
}

func snapshot(c *Coordinator) map[string]meta {
	out := make(map[string]meta, len(c.txns))
	for id, t := range c.txns {
		out[id] = t.meta
	}
	return out
}

// TestReplay_RandomOperationsReplayToTheSameState drives random requests,
// timeouts and marker completions and checks that what the live
// coordinator holds is exactly what replaying its records gives: state
// changes only through records.
func TestReplay_RandomOperationsReplayToTheSameState(t *testing.T) {
	for seed := range int64(20) {
		rng := rand.New(rand.NewSource(seed))
		h := newHarness(t)
		type producer struct {
			pid   int64
			epoch int16
		}
		ids := []string{"a", "b", "c"}
		cur := map[string]producer{}
		for range 300 {
			id := ids[rng.Intn(len(ids))]
			p := cur[id]
			switch rng.Intn(9) {
			case 0:
				if resp := h.init(id, int32(1000+rng.Intn(3000)), -1, -1); resp.ErrorCode == 0 {
					cur[id] = producer{resp.ProducerID, resp.ProducerEpoch}
				}
			case 1, 2:
				h.add(int16(3+2*rng.Intn(2)), id, p.pid, p.epoch, false, "t"+string(rune('0'+rng.Intn(3))), int32(rng.Intn(4)))
			case 3:
				h.addOffsets(id, p.pid, p.epoch, int32(rng.Intn(5)))
			case 4:
				h.add(4, id, p.pid, p.epoch, true, "t0", 0)
			case 5:
				v := int16(4 + rng.Intn(2))
				if resp := h.end(v, id, p.pid, p.epoch, rng.Intn(2) == 0); resp.ErrorCode == 0 && v >= 5 {
					cur[id] = producer{resp.ProducerID, resp.ProducerEpoch}
				}
			case 6, 7:
				h.completeMarkers()
			case 8:
				h.clk.Advance(time.Duration(rng.Intn(3000)) * time.Millisecond)
				if d, ok := h.c.NextDeadline(); ok && !d.After(h.clk.Now()) {
					h.take(h.c.Tick())
				}
			}
		}
		live, replayed := snapshot(h.c), snapshot(replayAll(t, h, h.log))
		if !reflect.DeepEqual(live, replayed) {
			t.Fatalf("seed %d: state differs\nlive:     %+v\nreplayed: %+v", seed, live, replayed)
		}
		pids := map[int64]string{}
		for id, m := range live {
			if other, dup := pids[m.producerID]; dup {
				t.Fatalf("seed %d: %s and %s share producer id %d", seed, id, other, m.producerID)
			}
			pids[m.producerID] = id
		}
	}
}

// A coordinator loaded with transactions in PrepareCommit/PrepareAbort
// writes their markers again (Kafka resends them on load).
func TestReplay_LoadResendsMarkersOfPreparedTransactions(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("a")
	h.mustAdd("a", pid, epoch, "t", 0, 1)
	h.end(4, "a", pid, epoch, true)
	pb, eb := h.mustInit("b")
	h.mustAdd("b", pb, eb, "t", 2)
	c := New(h.clk, h.cfg)
	for _, r := range h.log {
		if err := c.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	res := c.Loaded()
	if len(res.Markers) != 1 || res.Markers[0].TransactionalID != "a" || !res.Markers[0].Commit || len(res.Markers[0].Topics["t"]) != 2 {
		t.Fatalf("markers after load: %+v", res.Markers)
	}
	c.CompleteMarkers(res.Markers[0])
	if c.txns["a"].state != CompleteCommit {
		t.Errorf("after the resent markers: %v", c.txns["a"].state)
	}
}

func TestReplay_RecordsAreKafkaFormat(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("a")
	h.mustAdd("a", pid, epoch, "t", 0)
	r := h.log[len(h.log)-1]
	id, ok, err := decodeKey(r.Key)
	if err != nil || !ok || id != "a" || r.Key[0] != 0 || r.Key[1] != 0 {
		t.Fatalf("key % x: %q %v %v", r.Key, id, ok, err)
	}
	if r.Value[0] != 0 || r.Value[1] != valueVersionClassic {
		t.Errorf("classic value version % x", r.Value[:2])
	}
	h.add(5, "a", pid, epoch, false, "t", 1)
	if v := h.log[len(h.log)-1].Value; v[1] != valueVersionTV2 {
		t.Errorf("transaction version 2 value version % x, want 1", v[:2])
	}
	m, err := decodeValue(h.log[len(h.log)-1].Value)
	if err != nil || m.clientTV != 2 || len(m.partitions) != 2 || m.state != Ongoing {
		t.Errorf("decoded %+v %v", m, err)
	}
}
