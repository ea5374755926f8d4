package server

// librdkafka's balanced consumer (kcat -G) against the classic group
// coordinator: JoinGroup, SyncGroup, Heartbeat, OffsetFetch, OffsetCommit and
// LeaveGroup as librdkafka 2.0 sends them.
//
// How kcat 1.7.1 is driven here, and why:
//
//   - No -o. In -G mode kcat writes the -o offset into every partition it is
//     assigned, overriding the committed one, so `-o beginning` would read
//     the topic from the start on every run and hide a lost commit. Both runs
//     instead pass auto.offset.reset=earliest, which applies only where the
//     group has no committed offset: the first run starts at 0 because
//     nothing is committed, the second resumes only if the commits of the
//     first are there.
//   - -e. kcat exits once every assigned partition has reached its end;
//     exiting closes the consumer, which commits the offsets librdkafka stored
//     for the messages it returned and leaves the group. A -c count would stop
//     there and hide a duplicate; -e lets one show.
//   - auto.commit.interval.ms=100, so commits also happen while consuming,
//     not only at close.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
	"github.com/basketmq/basket/internal/coordinator/runtime"
	"github.com/basketmq/basket/internal/record"
)

// kcatGroupFormat prints partition, offset and value, tab-separated.
const kcatGroupFormat = `%p\t%o\t%s\n`

// kcatGroupConsume runs one `kcat -G groupID topic` until every partition
// it is assigned reaches its end and returns what it printed, keyed by
// partition and offset. A message printed twice fails the test.
func kcatGroupConsume(t *testing.T, b *Broker, groupID, topic string) map[tp]map[int64]string {
	t.Helper()
	out, _ := kcat(t, b, "", "-G", groupID, "-e", "-f", kcatGroupFormat,
		"-X", "auto.offset.reset=earliest",
		"-X", "enable.auto.commit=true", "-X", "auto.commit.interval.ms=100",
		topic)
	got := map[tp]map[int64]string{}
	for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			t.Fatalf("kcat printed %q, want 3 tab-separated fields", line)
		}
		p, err1 := strconv.ParseInt(f[0], 10, 32)
		o, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("kcat printed %q: bad partition or offset", line)
		}
		k := tp{topic, int32(p)}
		if got[k] == nil {
			got[k] = map[int64]string{}
		}
		if prev, dup := got[k][o]; dup {
			t.Fatalf("kcat -G printed %v offset %d twice (%q, then %q)", k, o, prev, f[2])
		}
		got[k][o] = f[2]
	}
	return got
}

// produceRound writes perPartition records to each partition of topic,
// valued "<round>-<partition>-<i>", and returns them by partition and
// offset.
func produceRound(t *testing.T, cl *kgo.Client, topic string, partitions int32, perPartition int, round string) map[tp]map[int64]string {
	t.Helper()
	var recs []*kgo.Record
	for p := range partitions {
		for i := range perPartition {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "%s-%d-%d", round, p, i)})
		}
	}
	res := cl.ProduceSync(ctxT(t), recs...)
	if err := res.FirstErr(); err != nil {
		t.Fatalf("produce %s: %v", round, err)
	}
	want := map[tp]map[int64]string{}
	for _, r := range res {
		k := tp{r.Record.Topic, r.Record.Partition}
		if want[k] == nil {
			want[k] = map[int64]string{}
		}
		want[k][r.Record.Offset] = string(r.Record.Value)
	}
	return want
}

// sameMessages fails the test unless got holds exactly the messages of
// want, each once.
func sameMessages(t *testing.T, run string, got, want map[tp]map[int64]string) {
	t.Helper()
	n, wantN := 0, 0
	for k, offs := range want {
		wantN += len(offs)
		for o, v := range offs {
			if g, ok := got[k][o]; !ok {
				t.Errorf("%s: %v offset %d (%q) never arrived", run, k, o, v)
			} else if g != v {
				t.Errorf("%s: %v offset %d is %q, produced %q", run, k, o, g, v)
			}
		}
	}
	for k, offs := range got {
		n += len(offs)
		for o, v := range offs {
			if _, ok := want[k][o]; !ok {
				t.Errorf("%s: unexpected message %v offset %d (%q)", run, k, o, v)
			}
		}
	}
	if n != wantN {
		t.Errorf("%s: read %d messages, want exactly %d", run, n, wantN)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// wantCommitted checks, through kadm, that groupID has committed end[p] for
// each partition p of topic and that its lag is zero.
func wantCommitted(t *testing.T, adm *kadm.Client, groupID, topic string, end map[int32]int64) {
	t.Helper()
	fetched, err := adm.FetchOffsets(ctxT(t), groupID)
	if err != nil || fetched.Error() != nil {
		t.Fatalf("FetchOffsets %s: %v %v", groupID, err, fetched.Error())
	}
	for p, want := range end {
		if o, ok := fetched.Lookup(topic, p); !ok || o.At != want {
			t.Errorf("group %s, %s-%d: committed %+v, want %d", groupID, topic, p, o.Offset, want)
		}
	}
	lags, err := adm.Lag(ctxT(t), groupID)
	if err != nil {
		t.Fatalf("Lag %s: %v", groupID, err)
	}
	gl := lags[groupID]
	if gl.Error() != nil {
		t.Fatalf("Lag %s: %v", groupID, gl.Error())
	}
	if total := gl.Lag.Total(); total != 0 {
		t.Errorf("group %s: total lag %d after everything was consumed, want 0", groupID, total)
	}
	if n := len(gl.Lag[topic]); n != len(end) {
		t.Errorf("group %s: lag lists %d partitions of %s, want %d", groupID, n, topic, len(end))
	}
	if gl.State != "Empty" {
		t.Errorf("group %s is %s after its consumers closed, want Empty (the clients leave on close)", groupID, gl.State)
	}
}

func TestKcat_GroupConsumerCommitsAndResumes(t *testing.T) {
	requireKcat(t)
	b := startBroker(t, groupConfig(t, t.TempDir()))
	prod := manualProducer(t, b)
	adm := kadm.NewClient(prod)
	const (
		topic      = "kcat-group"
		partitions = 4
		first      = 25 // N = 100 records
		second     = 10 // M = 40 records
	)
	createTopic(t, adm, topic, partitions)

	want := produceRound(t, prod, topic, partitions, first, "first")
	got := kcatGroupConsume(t, b, "g1", topic)
	sameMessages(t, "first kcat -G run", got, want)
	end := map[int32]int64{}
	for p := range int32(partitions) {
		end[p] = first
	}
	wantCommitted(t, adm, "g1", topic, end)

	want = produceRound(t, prod, topic, partitions, second, "second")
	got = kcatGroupConsume(t, b, "g1", topic)
	sameMessages(t, "second kcat -G run (resume from committed offsets)", got, want)
	for p := range int32(partitions) {
		end[p] = first + second
	}
	wantCommitted(t, adm, "g1", topic, end)

	checkOffsetsLog(t, b, "g1", topic, end)
}

// checkOffsetsLog reads the __consumer_offsets partition of groupID back
// from the log and checks the records docs/format/consumer-offsets.md
// describes: OffsetCommitKey v1 with OffsetCommitValue v3 whose last
// values are end, and GroupMetadataKey v2 with GroupMetadataValue v3 ending
// in an Empty group (librdkafka left it).
func checkOffsetsLog(t *testing.T, b *Broker, groupID, topic string, end map[int32]int64) {
	t.Helper()
	p := group.PartitionFor(groupID, b.groups.Partitions())
	part, ok := b.replicas.Partition(runtime.Topic, p)
	if !ok {
		t.Fatalf("broker hosts no partition %s-%d for group %s", runtime.Topic, p, groupID)
	}
	l := part.Log()
	var (
		dec        record.Decoder
		last       = map[int32]kmsg.OffsetCommitValue{}
		groupRecs  []kmsg.GroupMetadataValue
		maxMembers int
	)
	for off := l.LogStartOffset(); off < l.LogEndOffset(); {
		region, err := l.Read(off, 1<<20)
		if err != nil {
			t.Fatalf("read %s-%d at %d: %v", runtime.Topic, p, off, err)
		}
		data, err := region.ReadAll()
		if err != nil || len(data) == 0 {
			t.Fatalf("read %s-%d at %d: %d bytes, %v", runtime.Topic, p, off, len(data), err)
		}
		for len(data) > 0 {
			h, err := record.ParseHeader(data)
			if err != nil || h.Size() > int64(len(data)) {
				t.Fatalf("%s-%d: batch at %d does not parse: %v", runtime.Topic, p, off, err)
			}
			if h.ProducerID != record.NoProducerID || h.Attributes.Codec() != record.CodecNone {
				t.Errorf("%s-%d: batch at %d has producer id %d, codec %v; want none, uncompressed",
					runtime.Topic, p, h.BaseOffset, h.ProducerID, h.Attributes.Codec())
			}
			err = dec.Records(data[:h.Size()], func(_ *record.Header, r *record.Record) error {
				return checkOffsetsRecord(t, groupID, topic, r, last, &groupRecs, &maxMembers)
			})
			if err != nil {
				t.Fatalf("%s-%d: batch at %d: %v", runtime.Topic, p, h.BaseOffset, err)
			}
			off = h.NextOffset()
			data = data[h.Size():]
		}
	}
	for p, want := range end {
		v, ok := last[p]
		if !ok || v.Offset != want {
			t.Errorf("log: last commit for %s-%d is %+v, want offset %d", topic, p, v, want)
		}
	}
	if len(groupRecs) == 0 || maxMembers != 1 {
		t.Fatalf("log: %d group metadata records, at most %d members; want some, with kcat as the one member", len(groupRecs), maxMembers)
	}
	if g := groupRecs[len(groupRecs)-1]; len(g.Members) != 0 || g.ProtocolType != "consumer" {
		t.Errorf("log: last group metadata %+v, want an Empty consumer group", g)
	}
}

// checkOffsetsRecord checks one record of the offsets partition and
// notes what it says about groupID.
func checkOffsetsRecord(t *testing.T, groupID, topic string, r *record.Record,
	last map[int32]kmsg.OffsetCommitValue, groupRecs *[]kmsg.GroupMetadataValue, maxMembers *int) error {
	t.Helper()
	if len(r.Key) < 2 {
		return fmt.Errorf("key of %d bytes", len(r.Key))
	}
	switch typ := int16(r.Key[0])<<8 | int16(r.Key[1]); typ {
	case 1:
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(r.Key); err != nil {
			return fmt.Errorf("offset commit key: %w", err)
		}
		if k.Group != groupID || k.Topic != topic || r.Value == nil {
			return nil
		}
		var v kmsg.OffsetCommitValue
		if err := v.ReadFrom(r.Value); err != nil {
			return fmt.Errorf("offset commit value: %w", err)
		}
		if v.Version != 3 {
			t.Errorf("offset commit value version %d, want 3 (no expire timestamp)", v.Version)
		}
		last[k.Partition] = v
	case 2:
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(r.Key); err != nil {
			return fmt.Errorf("group metadata key: %w", err)
		}
		if k.Group != groupID || r.Value == nil {
			return nil
		}
		var v kmsg.GroupMetadataValue
		if err := v.ReadFrom(r.Value); err != nil {
			return fmt.Errorf("group metadata value: %w", err)
		}
		if v.Version != 3 {
			t.Errorf("group metadata value version %d, want 3", v.Version)
		}
		for _, m := range v.Members {
			if m.ClientID == "" || m.SessionTimeoutMillis <= 0 || len(m.Assignment) == 0 {
				t.Errorf("group metadata member %+v: want client id, session timeout and assignment", m)
			}
		}
		*maxMembers = max(*maxMembers, len(v.Members))
		*groupRecs = append(*groupRecs, v)
	default:
		t.Errorf("record with key type %d; Basket writes 1 and 2 only", typ)
	}
	return nil
}
