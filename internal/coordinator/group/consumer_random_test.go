package group

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestConsumerGroup_RandomOperations drives KIP-848 groups through random
// joins, heartbeats (some keeping partitions they should revoke, some
// lost), leaves, static restarts, metadata changes and clock jumps. After
// every step no partition is owned by two members, in the coordinator's
// view or the members'; at the end a replay of the log gives the same
// state and, with everyone heartbeating, the group settles with every
// partition owned once.
func TestConsumerGroup_RandomOperations(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 848))
			h := newHarness(t, testConfig())
			img := newImage(map[string]int32{"a": 3, "b": 2})
			var ms []*cm
			next := 0
			newMember := func() *cm {
				next++
				m := newCM("g", fmt.Sprintf("m%d", next), "a", "b")
				if r.IntN(3) == 0 {
					m.static(fmt.Sprintf("i%d", next))
				}
				return m
			}
			live := func() []*cm {
				var out []*cm
				for _, m := range ms {
					if g := h.c.cgroups["g"]; g != nil && g.members[m.id] != nil && m.epoch > 0 {
						out = append(out, m)
					}
				}
				return out
			}
			for step := 0; step < 200; step++ {
				switch op := r.IntN(10); {
				case op < 2 && len(ms) < 6:
					m := newMember()
					ms = append(ms, m)
					h.cgHeartbeat(m, img)
				case op < 6 && len(ms) > 0:
					m := ms[r.IntN(len(ms))]
					req := m.req(img)
					if r.IntN(4) == 0 {
						req.Topics = nil // a keepalive: owns what it did
					}
					resp := h.send(m, req, img)
					if resp.ErrorCode != 0 {
						m.epoch, m.owned = 0, map[string][]int32{} // rejoin next time
					}
				case op == 6 && len(ms) > 0:
					i := r.IntN(len(ms))
					m := ms[i]
					req := m.req(img)
					req.MemberEpoch = leaveEpoch
					if m.instance != nil {
						req.MemberEpoch = leaveStaticEpoch
					}
					h.send(m, req, img)
					ms = append(ms[:i], ms[i+1:]...)
					if m.instance != nil && r.IntN(2) == 0 { // restarts under a new id
						again := newCM("g", m.id+"r", "a", "b").static(*m.instance)
						ms = append(ms, again)
						h.cgHeartbeat(again, img)
					}
				case op == 7:
					img.set([]string{"a", "b", "c"}[r.IntN(3)], int32(r.IntN(4)))
				case op == 8:
					h.advance(time.Duration(r.IntN(20)) * time.Second)
				}
				h.checkOwners("g")
				h.ownership(live()...)
			}
			assertSameConsumerState(t, h)
			for _, m := range ms {
				m.epoch, m.owned = 0, map[string][]int32{}
			}
			h.advance(time.Minute) // sessions of members never heard from end
			if len(ms) > 0 {
				h.stabilise(img, ms...)
				total := 0
				for _, name := range []string{"a", "b"} { // "c" is subscribed to by nobody
					total += int(img.topics[name])
				}
				if got := len(h.ownership(ms...)); got != total {
					t.Fatalf("settled with %d partitions owned, want %d", got, total)
				}
			}
			assertSameConsumerState(t, h)
		})
	}
}

// checkOwners verifies the coordinator's bookkeeping: every partition a
// member holds (assigned or revoking) is owned by it in owners, and no
// partition is held by two members.
func (h *harness) checkOwners(group string) {
	h.t.Helper()
	g := h.c.cgroups[group]
	if g == nil {
		return
	}
	held := map[tp]string{}
	for _, m := range g.members {
		for _, a := range []assignment{m.cur.assigned, m.cur.revoking} {
			for id, ps := range a {
				for _, p := range ps {
					k := tp{id, p}
					if o, dup := held[k]; dup && o != m.id {
						h.t.Fatalf("partition %x/%d held by %s and %s", id[:6], p, o, m.id)
					}
					held[k] = m.id
					if g.owner(id, p) != m.id {
						h.t.Fatalf("owners says %q for a partition %s holds", g.owner(id, p), m.id)
					}
				}
			}
		}
	}
}
