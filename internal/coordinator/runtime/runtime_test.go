package runtime

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/coordinator/group"
	"github.com/basketmq/basket/internal/log"
)

// failingLog is a real log whose appends can be made to fail.
type failingLog struct {
	*log.Log
	fail atomic.Bool
}

func (l *failingLog) Append(batch []byte, epoch int32) (log.AppendInfo, error) {
	if l.fail.Load() {
		return log.AppendInfo{}, errors.New("injected append failure")
	}
	return l.Log.Append(batch, epoch)
}

// openLog opens one partition of Topic in dir.
func openLog(t *testing.T, dir string) (*log.Dir, *failingLog) {
	t.Helper()
	d, err := log.OpenDir(dir, log.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	tp := log.TopicPartition{Topic: Topic, Partition: 0}
	l, ok := d.Log(tp)
	if !ok {
		if l, err = d.CreateLog(tp, log.DefaultConfig()); err != nil {
			t.Fatal(err)
		}
	}
	return d, &failingLog{Log: l}
}

func startRuntime(t *testing.T, l Log) *Runtime {
	t.Helper()
	r := Start(Options{
		Partitions: 1, Group: group.DefaultConfig(), Logger: slog.New(slog.DiscardHandler),
		Partition: func(int32) (Log, int32, bool) { return l, 0, true },
	})
	t.Cleanup(r.Close)
	return r
}

// commit commits offset o for partition 0 of topic "t" from outside any
// generation and returns the partition's error code.
func commit(t *testing.T, r *Runtime, groupID string, o int64) int16 {
	t.Helper()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.Generation = 8, groupID, -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Offset = o
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := ask(t, r, func(c *group.Coordinator, from group.Caller) group.Result { return c.OffsetCommit(from, req) })
	return resp.(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
}

func fetch(t *testing.T, r *Runtime, groupID string) (int64, int16) {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group = 7, groupID
	resp := ask(t, r, func(c *group.Coordinator, from group.Caller) group.Result { return c.OffsetFetch(from, req) }).(*kmsg.OffsetFetchResponse)
	if resp.ErrorCode != 0 || len(resp.Topics) == 0 {
		return -1, resp.ErrorCode
	}
	return resp.Topics[0].Partitions[0].Offset, 0
}

func ask(t *testing.T, r *Runtime, cmd Command) kmsg.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch, err := r.Submit(ctx, 0, group.Caller{}, cmd)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-ch:
		return resp
	case <-ctx.Done():
		t.Fatal("no answer")
		return nil
	}
}

// loadedFetch polls until the shard has loaded and returns the offset.
func loadedFetch(t *testing.T, r *Runtime, groupID string) int64 {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		o, code := fetch(t, r, groupID)
		if code != kerr.CoordinatorLoadInProgress.Code {
			return o
		}
	}
	t.Fatal("the shard never loaded")
	return 0
}

func TestRuntime_CommitsAreDurableAndReplayAfterRestart(t *testing.T) {
	dir := t.TempDir()
	d, l := openLog(t, dir)
	r := startRuntime(t, l)
	loadedFetch(t, r, "g")
	if code := commit(t, r, "g", 42); code != 0 {
		t.Fatalf("commit: %v", kerr.ErrorForCode(code))
	}
	if l.DurableOffset() < l.LogEndOffset() || l.LogEndOffset() == 0 {
		t.Errorf("answered before durable: durable %d, end %d", l.DurableOffset(), l.LogEndOffset())
	}
	r.Close()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d, l = openLog(t, dir)
	t.Cleanup(func() { d.Close() })
	r = startRuntime(t, l)
	if o := loadedFetch(t, r, "g"); o != 42 {
		t.Errorf("offset after replay %d, want 42", o)
	}
}

func TestRuntime_FailedWriteAnswersNotCoordinatorAndReloads(t *testing.T) {
	d, l := openLog(t, t.TempDir())
	t.Cleanup(func() { d.Close() })
	r := startRuntime(t, l)
	loadedFetch(t, r, "g")
	if code := commit(t, r, "g", 1); code != 0 {
		t.Fatalf("commit: %v", kerr.ErrorForCode(code))
	}
	l.fail.Store(true)
	if code := commit(t, r, "g", 2); code != kerr.NotCoordinator.Code {
		t.Errorf("commit whose write failed: %v, want NOT_COORDINATOR", kerr.ErrorForCode(code))
	}
	l.fail.Store(false)
	// The reloaded coordinator knows only what reached the log.
	if o := loadedFetch(t, r, "g"); o != 1 {
		t.Errorf("offset after the failed write %d, want 1", o)
	}
}

func TestRuntime_CloseAnswersNotCoordinator(t *testing.T) {
	d, l := openLog(t, t.TempDir())
	t.Cleanup(func() { d.Close() })
	r := startRuntime(t, l)
	r.Close()
	if _, code := fetch(t, r, "g"); code != kerr.NotCoordinator.Code {
		t.Errorf("request after Close: %v, want NOT_COORDINATOR", kerr.ErrorForCode(code))
	}
}

// A shard waiting for its partition loads as soon as the owner reports a
// change of partitions, not at its next retry: on a fake clock that never
// advances, the retry never comes.
func TestRuntime_PartitionsChangedStartsLoadingAtOnce(t *testing.T) {
	d, l := openLog(t, t.TempDir())
	defer d.Close()
	var exists atomic.Bool
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	r := Start(Options{
		Partitions: 1, Group: group.DefaultConfig(), Clock: clk, Logger: slog.New(slog.DiscardHandler),
		Partition: func(int32) (Log, int32, bool) {
			if !exists.Load() {
				return nil, 0, false
			}
			return l, 0, true
		},
	})
	t.Cleanup(r.Close)
	if _, code := fetch(t, r, "g"); code != kerr.CoordinatorLoadInProgress.Code {
		t.Fatalf("before the partition exists: error %d, want COORDINATOR_LOAD_IN_PROGRESS", code)
	}
	exists.Store(true)
	r.PartitionsChanged()
	if o := loadedFetch(t, r, "g"); o != -1 {
		t.Fatalf("fetched offset %d from an empty log, want -1", o)
	}
}
