package server

// End-to-end transactions: what read_committed consumers see. These need
// the partition side of transactions (markers written to data partitions,
// the last stable offset, aborted-transaction lists in Fetch), so they
// skip until the broker serves WriteTxnMarkers (key 27); once the
// partition side is merged and Broker.writeTxnMarkers calls the real
// handler, they run without change.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// requireMarkers skips the test unless the broker advertises
// WriteTxnMarkers.
func requireMarkers(t *testing.T, cl *kgo.Client) {
	t.Helper()
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range resp.ApiKeys {
		if k.ApiKey == 27 {
			return
		}
	}
	t.Skip("WriteTxnMarkers (key 27) is not served: the partition side of transactions is not merged")
}

// consumeAll reads every topic to its end at the given isolation level
// and returns the values seen.
func consumeAll(t *testing.T, b *Broker, isolation kgo.IsolationLevel, want int, topics ...string) map[string]int {
	t.Helper()
	cl := newClient(t, b, kgo.ConsumeTopics(topics...), kgo.FetchIsolationLevel(isolation),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	seen := map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n := 0
	for n < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			seen[string(r.Value)]++
			n++
		})
	}
	// Give a little time for records that should not be there.
	extra, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	cl.PollFetches(extra).EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++ })
	return seen
}

// A transactional producer commits some and aborts some transactions over
// 3 topics × 4 partitions: read_committed consumers see exactly the
// committed records, read_uncommitted ones all of them.
func TestTransactionsE2E_ReadCommittedSeesOnlyCommitted(t *testing.T) {
	b := startBroker(t, txnTestConfig(t, t.TempDir()))
	admCl := newClient(t, b)
	requireMarkers(t, admCl)
	adm := kadm.NewClient(admCl)
	topics := []string{"e2e-a", "e2e-b", "e2e-c"}
	for _, name := range topics {
		createTopic(t, adm, name, 4)
	}
	cl := newClient(t, b, kgo.TransactionalID("e2e"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	ctx := ctxT(t)
	committed := map[string]bool{}
	total := 0
	for txn := range 10 {
		commit := txn%3 != 1
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := range 24 {
			v := fmt.Sprintf("txn%d-%d", txn, i)
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topics[i%3], Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			if commit {
				committed[v] = true
			}
			total++
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	got := consumeAll(t, b, kgo.ReadCommitted(), len(committed), topics...)
	for v, n := range got {
		if !committed[v] || n != 1 {
			t.Errorf("read_committed saw %q %d times (committed: %v)", v, n, committed[v])
		}
	}
	if len(got) != len(committed) {
		t.Errorf("read_committed saw %d records, want %d", len(got), len(committed))
	}
	if all := consumeAll(t, b, kgo.ReadUncommitted(), total, topics...); len(all) != total {
		t.Errorf("read_uncommitted saw %d records, want %d", len(all), total)
	}
}

// An open transaction holds read_committed consumers at the last stable
// offset; its abort by a fencing producer releases them without showing
// its records.
func TestTransactionsE2E_FencedOpenTransactionNeverVisible(t *testing.T) {
	b := startBroker(t, txnTestConfig(t, t.TempDir()))
	admCl := newClient(t, b)
	requireMarkers(t, admCl)
	createTopic(t, kadm.NewClient(admCl), "e2e-fence", 1)
	ctx := ctxT(t)
	zombie := newClient(t, b, kgo.TransactionalID("e2e-fence"), kgo.DefaultProduceTopic("e2e-fence"))
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := zombie.ProduceSync(ctx, &kgo.Record{Value: []byte("zombie")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fresh := newClient(t, b, kgo.TransactionalID("e2e-fence"), kgo.DefaultProduceTopic("e2e-fence"))
	if err := fresh.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := fresh.ProduceSync(ctx, &kgo.Record{Value: []byte("fresh")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := fresh.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	got := consumeAll(t, b, kgo.ReadCommitted(), 1, "e2e-fence")
	if got["zombie"] != 0 || got["fresh"] != 1 {
		t.Errorf("read_committed saw %v, want only fresh", got)
	}
}
