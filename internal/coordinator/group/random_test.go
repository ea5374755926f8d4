package group

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRandom_Invariants runs random sequences of requests, client
// restarts and clock steps. Nothing may panic, every parked request is
// answered exactly once (by Unload at the latest), generations never go
// back, every Stable group's members have assignments, the bookkeeping
// stays consistent, and replaying the records gives the persisted state.
func TestRandom_Invariants(t *testing.T) {
	seeds := *randomSeeds
	if testing.Short() {
		seeds = 5
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { randomRun(t, uint64(seed), *randomSteps) })
	}
}

var (
	randomSeeds = flag.Int("random.seeds", 30, "TestRandom_Invariants: number of seeds")
	randomSteps = flag.Int("random.steps", 400, "TestRandom_Invariants: steps per seed")
)

type rclient struct{ tm *tm }

func randomRun(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	cfg := testConfig()
	cfg.MaxSize = 5
	cfg.MaxPendingMembers = 3
	cfg.OffsetsRetention = time.Minute
	cfg.OffsetsRetentionCheckInterval = 10 * time.Second
	cfg.InitialRebalanceDelay = time.Duration(rng.IntN(2)) * time.Second
	h := newHarness(t, cfg)
	groups := []string{"g0", "g1", "g2"}
	versions := []int16{0, 3, 4, 5, 7, 9}
	protocols := [][]kmsg.JoinGroupRequestProtocol{
		rangeProtos("t0"), rangeProtos("t1"),
		{{Name: "sticky", Metadata: consumerMeta("t0")}, {Name: "range", Metadata: consumerMeta("t0")}},
		{{Name: "sticky", Metadata: consumerMeta("t1")}},
	}
	var clients []*tm
	for i := range 8 {
		m := newTM(groups[i%len(groups)])
		m.protos, m.version = protocols[rng.IntN(len(protocols))], versions[rng.IntN(len(versions))]
		m.session, m.rebal = int32(6000+rng.IntN(6000)), int32(1000+rng.IntN(15000))
		if i%3 == 0 {
			m.static(fmt.Sprintf("i%d", i))
		}
		clients = append(clients, m)
	}
	parked := make(map[int]bool) // refs of JoinGroup/SyncGroup requests
	lastGen := make(map[string]int32)

	learn := func(m *tm) { // what a client learns from its last answer
		switch resp := h.answers[m.ref].(type) {
		case *kmsg.JoinGroupResponse:
			switch resp.ErrorCode {
			case 0:
				m.memberID, m.gen, m.leader, m.members = resp.MemberID, resp.Generation, resp.LeaderID == resp.MemberID, resp.Members
			case kerr.MemberIDRequired.Code:
				m.memberID = resp.MemberID
			case kerr.UnknownMemberID.Code, kerr.FencedInstanceID.Code:
				m.memberID, m.gen = "", -1
			}
		}
	}
	for step := range steps {
		m := clients[rng.IntN(len(clients))]
		learn(m)
		switch op := rng.IntN(15); op {
		case 0, 1, 2:
			from := h.caller()
			h.take(h.c.JoinGroup(from, h.joinReq(m)), from.Ref.(int))
			m.ref, parked[from.Ref.(int)] = from.Ref.(int), true
		case 3, 4:
			parked[h.sync(m)] = true
		case 5, 6:
			h.heartbeat(m)
		case 7:
			h.leave(m.group, kmsg.LeaveGroupRequestMember{MemberID: m.memberID, InstanceID: m.instance})
		case 8:
			gen, id := m.gen, m.memberID
			if rng.IntN(2) == 0 {
				gen, id = -1, "" // assign mode
			}
			h.commit(commitReq(versions[rng.IntN(len(versions))]%9, m.group, id, gen, fmt.Sprintf("t%d", rng.IntN(2)), int32(rng.IntN(2)), int64(step), nil))
		case 9:
			h.deleteGroups(m.group)
		case 10:
			del := kmsg.NewPtrOffsetDeleteRequest()
			del.Group, del.Topics = m.group, []kmsg.OffsetDeleteRequestTopic{{Topic: "t1", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}}}
			h.take(h.c.OffsetDelete(h.caller(), del), 0)
		case 11: // restart: a static member comes back, a dynamic one starts over
			m.memberID, m.gen, m.leader = "", -1, false
			m.protos = protocols[rng.IntN(len(protocols))]
		case 12:
			bogus := *m
			bogus.memberID, bogus.gen = fmt.Sprintf("bogus-%d", rng.IntN(3)), int32(rng.IntN(4))-1
			h.heartbeat(&bogus)
			h.sync(&bogus)
		case 13: // read-only APIs must never fail to answer
			d := kmsg.NewPtrDescribeGroupsRequest()
			d.Version, d.Groups = 5, groups
			h.take(h.c.DescribeGroups(h.caller(), d), 0)
			h.listGroups()
			f := kmsg.NewPtrOffsetFetchRequest()
			f.Version, f.Groups = 8, []kmsg.OffsetFetchRequestGroup{{Group: m.group}}
			h.take(h.c.OffsetFetch(h.caller(), f), 0)
		default:
			h.advance(time.Duration(rng.IntN(8000)) * time.Millisecond)
		}
		checkInvariants(t, h, lastGen)
		if step%100 == 99 {
			assertPersisted(t, h)
		}
	}
	assertPersisted(t, h)
	h.take(h.c.Unload(), 0)
	for ref := range parked {
		if h.pending(ref) {
			t.Fatalf("request %d never answered", ref)
		}
	}
}

func checkInvariants(t *testing.T, h *harness, lastGen map[string]int32) {
	t.Helper()
	for id := range lastGen {
		if h.c.groups[id] == nil {
			delete(lastGen, id) // deleted: a new incarnation starts over
		}
	}
	for id, g := range h.c.groups {
		if prev, ok := lastGen[id]; ok && g.generation < prev {
			t.Fatalf("group %s: generation %d after %d", id, g.generation, prev)
		}
		lastGen[id] = g.generation
		awaiting, supported := 0, make(map[string]int)
		for mid, m := range g.members {
			if g.state == Stable && m.assignment == nil {
				t.Fatalf("group %s: Stable member %s without assignment", id, mid)
			}
			if m.join != nil {
				awaiting++
			}
			for _, p := range uniqueNames(m.protocols) {
				supported[p]++
			}
			if m.instanceID != nil && g.static[*m.instanceID] != mid {
				t.Fatalf("group %s: static map lost %s", id, mid)
			}
		}
		switch {
		case awaiting != g.awaitingJoin:
			t.Fatalf("group %s: awaitingJoin %d, %d parked", id, g.awaitingJoin, awaiting)
		case len(g.members) > 0 && g.members[g.leader] == nil:
			t.Fatalf("group %s: leader %q not a member", id, g.leader)
		case len(g.members) == 0 && (g.state == Stable || g.state == CompletingRebalance):
			t.Fatalf("group %s: %v without members", id, g.state)
		case len(g.static) > len(g.members):
			t.Fatalf("group %s: stale static ids", id)
		case len(supported) != len(g.supported):
			t.Fatalf("group %s: protocol counts %v, want %v", id, g.supported, supported)
		case len(g.pending) > h.c.cfg.MaxPendingMembers:
			t.Fatalf("group %s: %d pending ids", id, len(g.pending))
		}
		for mid := range g.pendingSync {
			if g.members[mid] == nil {
				t.Fatalf("group %s: pending sync %s not a member", id, mid)
			}
		}
	}
}

// assertPersisted checks that the Stable and Empty groups, and all
// offsets, are what replaying the records gives.
func assertPersisted(t *testing.T, h *harness) {
	t.Helper()
	replayed := replayAll(t, h, h.log)
	lg, lo := snapshot(h.c)
	rg, ro := snapshot(replayed)
	for id, g := range lg {
		if g.State != Stable && g.State != Empty {
			continue // rebalancing: ahead of its last record, by design
		}
		if r, ok := rg[id]; !ok || !reflect.DeepEqual(r, g) {
			t.Fatalf("group %s\nlive:     %+v\nreplayed: %+v", id, g, r)
		}
	}
	for id := range rg {
		if _, ok := lg[id]; !ok {
			t.Fatalf("group %s exists only in the records", id)
		}
	}
	if !reflect.DeepEqual(lo, ro) {
		t.Fatalf("offsets differ\nlive:     %v\nreplayed: %v", lo, ro)
	}
}
