package group

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

type memberSnap struct {
	ID, ClientID, Host       string
	Instance                 *string
	Rebalance, Session       int32
	Subscription, Assignment string
}

type groupSnap struct {
	State                          State
	ProtocolType, Protocol, Leader string
	Generation                     int32
	StateTime                      int64
	Members                        []memberSnap
}

// snapshot is the persisted state of c: what its records say.
func snapshot(c *Coordinator) (map[string]groupSnap, map[string]map[string]map[int32]offset) {
	gs := make(map[string]groupSnap)
	for id, g := range c.groups {
		s := groupSnap{g.state, g.protocolType, g.protocol, g.leader, g.generation, g.stateTime, nil}
		for _, m := range g.sorted() {
			s.Members = append(s.Members, memberSnap{m.id, m.clientID, m.clientHost, m.instanceID,
				m.rebalanceTimeout, m.sessionTimeout, string(m.metadata(g.protocol)), string(m.assignment)})
		}
		gs[id] = s
	}
	// order is bookkeeping for transactional offsets, not state.
	offsets := make(map[string]map[string]map[int32]offset, len(c.offsets))
	for g, topics := range c.offsets {
		offsets[g] = make(map[string]map[int32]offset, len(topics))
		for t, parts := range topics {
			offsets[g][t] = make(map[int32]offset, len(parts))
			for p, o := range parts {
				o.order = 0
				offsets[g][t][p] = o
			}
		}
	}
	return gs, offsets
}

// replayAll loads a fresh coordinator from records.
func replayAll(t testing.TB, h *harness, records []Record) *Coordinator {
	t.Helper()
	c := New(h.clk, testConfig())
	for i, r := range records {
		if err := c.Replay(r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	c.Loaded()
	return c
}

func assertSameState(t testing.TB, live, replayed *Coordinator) {
	t.Helper()
	lg, lo := snapshot(live)
	rg, ro := snapshot(replayed)
	if !reflect.DeepEqual(lg, rg) {
		t.Fatalf("groups differ\nlive:     %+v\nreplayed: %+v", lg, rg)
	}
	if !reflect.DeepEqual(lo, ro) {
		t.Fatalf("offsets differ\nlive:     %+v\nreplayed: %+v", lo, ro)
	}
}

// TestReplay_Equivalence: replaying every record a scenario wrote into a
// fresh coordinator gives the state the scenario left.
func TestReplay_Equivalence(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b, s := newTM("g", "t1"), newTM("g", "t2"), newTM("g", "t1", "t2").static("s")
	h.stabilize(a, b, s)
	h.commit(commitReq(8, "g", a.memberID, a.gen, "t1", 0, 100, kmsg.StringPtr("a's")))
	s2 := restart(s)
	h.join(s2) // static replacement, no rebalance
	h.joined(s2)
	h.leave("g", kmsg.LeaveGroupRequestMember{MemberID: b.memberID})
	h.stabilize(a, s2)
	h.commit(commitReq(8, "g", s2.memberID, s2.gen, "t2", 4, 7, nil))

	x := newTM("expired", "t")
	h.stabilize(x)
	h.commit(commitReq(8, "expired", x.memberID, x.gen, "t", 0, 1, nil))
	for range 4 { // keep g alive while x's session runs out
		h.advance(3 * time.Second)
		h.heartbeat(a)
		h.heartbeat(s2)
	}
	h.commit(commitReq(2, "solo", "", -1, "t", 0, 5, kmsg.StringPtr("m")))
	h.commit(commitReq(2, "solo", "", -1, "t", 1, 6, nil))
	del := kmsg.NewPtrOffsetDeleteRequest()
	del.Group, del.Topics = "solo", []kmsg.OffsetDeleteRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 1}}}}
	h.take(h.c.OffsetDelete(h.caller(), del), 0)
	h.commit(commitReq(8, "gone", "", -1, "t", 0, 1, nil))
	h.deleteGroups("gone")
	h.take(h.c.JoinGroup(h.caller(), h.joinReq(newTM("pending", "t"))), 0) // KIP-394 first join: an Empty group

	if g := h.group("expired"); g == nil || g.state != Empty {
		t.Fatalf("group expired: %+v", g)
	}
	assertSameState(t, h.c, replayAll(t, h, h.log))
}

func TestReplay_RecordVersions(t *testing.T) {
	h := newHarness(t, testConfig())
	a := newTM("g", "t")
	h.stabilize(a)
	h.commit(commitReq(8, "g", a.memberID, a.gen, "t", 0, 1, nil))
	retained := commitReq(3, "g", a.memberID, a.gen, "t", 1, 1, nil)
	retained.RetentionTimeMillis = 1000
	h.commit(retained)
	version := func(b []byte) int { return int(b[0])<<8 | int(b[1]) }
	want := [][2]int{{2, 3}, {2, 3}, {1, 3}, {1, 1}} // (key, value) per record
	if len(h.log) != len(want) {
		t.Fatalf("%d records", len(h.log))
	}
	for i, w := range want {
		if k, v := version(h.log[i].Key), version(h.log[i].Value); k != w[0] || v != w[1] {
			t.Fatalf("record %d: key v%d value v%d, want %v", i, k, v, w)
		}
	}
}

// TestReplay_OlderKafkaFormats loads records as older Kafka versions
// wrote them.
func TestReplay_OlderKafkaFormats(t *testing.T) {
	h := newHarness(t, testConfig())
	gv := kmsg.NewGroupMetadataValue()
	gv.Version, gv.ProtocolType, gv.Generation = 0, "consumer", 4
	gv.Protocol, gv.Leader = kmsg.StringPtr("range"), kmsg.StringPtr("m1")
	gv.Members = []kmsg.GroupMetadataValueMember{{MemberID: "m1", ClientID: "c", ClientHost: "h", SessionTimeoutMillis: 10000, Subscription: consumerMeta("t"), Assignment: []byte("x")}}
	ok := kmsg.OffsetCommitKey{Version: 0, Group: "g", Topic: "t", Partition: 0}
	ov := kmsg.NewOffsetCommitValue()
	ov.Version, ov.Offset, ov.Metadata, ov.CommitTimestamp = 0, 9, "old", 1
	records := []Record{
		{Key: groupKey("g"), Value: gv.AppendTo(nil)},
		{Key: ok.AppendTo(nil), Value: ov.AppendTo(nil)},
		{Key: []byte{0, 9, 0, 1, 'x'}, Value: []byte{0, 0}}, // a share group record: skipped
	}
	c := replayAll(t, h, records)
	g := c.groups["g"]
	if g.state != Stable || g.generation != 4 || g.members["m1"].rebalanceTimeout != 10000 || g.stateTime != -1 {
		t.Fatalf("group %+v", g)
	}
	if o := c.offsets["g"]["t"][0]; o.offset != 9 || o.leaderEpoch != -1 || o.expireTime != -1 || o.metadata != "old" {
		t.Fatalf("offset %+v", o)
	}
	for _, bad := range []Record{{Key: []byte{0}}, {Key: []byte{0, 2, 0}}, {Key: groupKey("g"), Value: []byte{0, 3, 0}}, {Key: offsetKey("g", "t", 0), Value: []byte{0}}} {
		if err := New(h.clk, testConfig()).Replay(bad); !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("record %x/%x: %v", bad.Key, bad.Value, err)
		}
	}
}

func TestPartitionFor(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want int32
	}{
		{"", 0},
		{"a", 97 % 50},
		{"hello", 99162322 % 50},             // Java "hello".hashCode()
		{"polygenelubricants", 0},            // hashCode() is Integer.MIN_VALUE
		{"Aa", 2112 % 50}, {"BB", 2112 % 50}, // a classic collision
		{"✓", 0x2713 % 50},
	} {
		if got := PartitionFor(tc.id, 50); got != tc.want {
			t.Errorf("PartitionFor(%q) = %d, want %d", tc.id, got, tc.want)
		}
	}
}
