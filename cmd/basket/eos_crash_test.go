package main

// Exactly-once consume-transform-produce across crashes (issue 7; Kafka's
// transactions_test.py): a copier built on kgo's GroupTransactSession
// reads eos-in with read_committed and writes every record to eos-out,
// committing its consumer offsets in the same transaction (KIP-447), under
// transaction.version 2 (KIP-890 part 2). Meanwhile the copier is crashed
// — its client closed inside a transaction, without EndTxn — and restarted
// several times, and the real broker binary is killed with SIGKILL and
// restarted in between. At the end a read_committed consumer must find
// every input record in eos-out exactly once.
//
// By default it copies the 100k records the issue names (about 20-35 s
// here, -race included) through 6 faults;
//
//	go test ./cmd/basket -run TestCrash_ExactlyOnceCopier -eos.records=1000000 -eos.faults=20 -v
//
// runs a longer soak.

import (
	"context"
	"flag"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

var (
	eosRecords = flag.Int("eos.records", 100000, "records copied by TestCrash_ExactlyOnceCopierSurvivesKillNine")
	eosFaults  = flag.Int("eos.faults", 6, "copier crashes plus broker kill -9s in TestCrash_ExactlyOnceCopierSurvivesKillNine (alternating)")
)

const (
	eosIn, eosOut = "eos-in", "eos-out"
	eosGroup      = "eos-copier"
)

// eosCopier runs GroupTransactSessions one after another; a value on crash
// makes the current one die inside its transaction.
type eosCopier struct {
	addr     string
	crash    chan struct{}
	commits  atomic.Int64 // committed transactions
	sessions atomic.Int64
	crashed  atomic.Int64 // sessions that died inside a transaction
}

func (c *eosCopier) run(ctx context.Context) {
	for ctx.Err() == nil {
		c.session(ctx)
	}
}

// session copies until ctx ends, a crash is asked for, or the session
// fails; a failed session is dropped as a crashed copier would be.
func (c *eosCopier) session(ctx context.Context) {
	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(c.addr), kgo.TransactionalID("eos"), kgo.ConsumerGroup(eosGroup), kgo.ConsumeTopics(eosIn),
		kgo.DefaultProduceTopic(eosOut), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.FetchMaxWait(100*time.Millisecond),
		kgo.SessionTimeout(6*time.Second), kgo.HeartbeatInterval(200*time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }),
	)
	if err != nil {
		return
	}
	c.sessions.Add(1)
	die := func() { // no EndTxn: the next session's InitProducerId aborts what is open
		c.crashed.Add(1)
		fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		sess.Client().Flush(fctx)
		cancel()
		sess.Client().Close()
	}
	for {
		select {
		case <-ctx.Done():
			sess.Close()
			return
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		fs := sess.PollRecords(pctx, 500)
		cancel()
		if fs.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			die()
			return
		}
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Key: r.Key, Value: r.Value}, nil)
		})
		select {
		case <-c.crash:
			die()
			return
		default:
		}
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			die()
			return
		}
		if committed {
			c.commits.Add(1)
		}
	}
}

func TestCrash_ExactlyOnceCopierSurvivesKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	n := *eosRecords
	bin := buildBasket(t)
	addr, dir := freePort(t), t.TempDir()
	logPath := filepath.Join(t.TempDir(), "basket.log")
	proc := startServe(t, bin, addr, dir, logPath)
	defer func() { proc.kill() }()
	defer func() {
		if t.Failed() {
			t.Logf("broker log (tail):\n%s", readLog(logPath))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	begin := time.Now()

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(eosIn),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, topic := range []string{eosIn, eosOut} {
		if _, err := adm.CreateTopic(ctx, 4, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	c := &eosCopier{addr: addr, crash: make(chan struct{})}
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.run(cctx) }()
	defer func() { stop(); wg.Wait() }()

	// Alternate: crash the copier inside a transaction, then kill -9 the
	// broker, each once the copier has committed since the last fault.
	kills := 0
	for fault := range *eosFaults {
		since := c.commits.Load()
		waitFor(t, 60*time.Second, "the copier to commit", func() bool { return c.commits.Load() > since })
		if fault%2 == 0 {
			select {
			case c.crash <- struct{}{}:
			case <-time.After(10 * time.Second):
				t.Fatal("the copier did not take the crash")
			}
			continue
		}
		proc.kill()
		kills++
		proc = startServe(t, bin, addr, dir, logPath)
	}

	// Copy the rest: the group's committed offsets reach the end of eos-in.
	waitFor(t, 3*time.Minute, "the copier to finish", func() bool {
		offs, err := adm.FetchOffsets(ctx, eosGroup)
		if err != nil {
			return false
		}
		total := int64(0)
		offs.Each(func(o kadm.OffsetResponse) { total += o.At })
		return total == int64(n)
	})
	stop()
	wg.Wait()
	copied := time.Since(begin)

	got := readCommitted(t, ctx, addr, eosOut, n)
	seen := make(map[string]int, len(got))
	for _, v := range got {
		seen[v]++
	}
	missing, dup := 0, 0
	for i := range n {
		switch seen[strconv.Itoa(i)] {
		case 0:
			missing++
		case 1:
		default:
			dup++
		}
	}
	if missing > 0 || dup > 0 || len(got) != n {
		t.Fatalf("eos-out under read_committed: %d records for %d inputs, %d missing, %d duplicated", len(got), n, missing, dup)
	}
	t.Logf("%d records copied exactly once in %v: %d committed transactions, %d copier sessions (%d crashed), %d broker kill -9s",
		n, copied.Round(time.Millisecond), c.commits.Load(), c.sessions.Load(), c.crashed.Load(), kills)
}
