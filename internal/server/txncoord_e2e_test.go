package server

// End-to-end transactions: what read_committed consumers see, with the
// coordinator writing markers through the WriteTxnMarkers handler.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// requireMarkers fails the test unless the broker advertises
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
	t.Fatal("the broker does not advertise WriteTxnMarkers (key 27)")
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

// copyRound runs a GroupTransactSession copier from cp-in to cp-out until
// it has committed at least limit records (or the input is all copied),
// then, if kill, leaves a transaction open with some records produced and
// closes its client without ending it, as a crashed copier does.
func copyRound(t *testing.T, b *Broker, limit int, kill bool) int {
	t.Helper()
	ctx := ctxT(t)
	sess, err := kgo.NewGroupTransactSession(append(consumerOpts("cp", "cp-in"),
		kgo.SeedBrokers(b.Addr().String()), kgo.TransactionalID("cp"), kgo.DefaultProduceTopic("cp-out"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	copied, idle := 0, 0
	for copied < limit && idle < 20 {
		pollCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fs := sess.PollRecords(pollCtx, 500)
		cancel()
		if fs.NumRecords() == 0 {
			idle++
			continue
		}
		idle = 0
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		n := 0
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Value: r.Value}, nil)
			n++
		})
		if kill && copied+n >= limit {
			sess.Client().Flush(ctx)
			sess.Client().Close() // dies inside the transaction
			return copied
		}
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			t.Fatalf("End: %v", err)
		}
		if committed {
			copied += n
		}
	}
	sess.Close()
	return copied
}

// A consume-transform-produce copier (kgo GroupTransactSession) copies the
// input exactly once while it is killed inside transactions and the
// broker restarts in between: read_committed sees every input record in
// the output once (issue 7; Kafka's transactions_test.py).
func TestTransactionsE2E_CopierExactlyOnceAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	cfg := txnTestConfig(t, dir)
	b := startBroker(t, cfg)
	admCl := newClient(t, b)
	requireMarkers(t, admCl)
	adm := kadm.NewClient(admCl)
	createTopic(t, adm, "cp-in", 4)
	createTopic(t, adm, "cp-out", 4)
	const n = 20000
	ctx := ctxT(t)
	prod := newClient(t, b, kgo.DefaultProduceTopic("cp-in"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	for i := range n {
		prod.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	prod.Close()
	for round := range 4 {
		copyRound(t, b, n/6, true)
		if round%2 == 1 {
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			b = startBroker(t, cfg)
		}
	}
	copyRound(t, b, n, false)
	got := consumeAll(t, b, kgo.ReadCommitted(), n, "cp-out")
	if len(got) != n {
		t.Errorf("output holds %d distinct records, want %d", len(got), n)
	}
	for v, c := range got {
		if c != 1 {
			t.Errorf("record %s copied %d times", v, c)
		}
	}
}
