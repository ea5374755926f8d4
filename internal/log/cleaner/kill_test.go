package cleaner

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

var killCycles = flag.Int("crash.cycles", 4, "kill -9 cycles in TestCrash_KillNineWhileCleaning")

const killChildEnv = "BASKET_CLEANER_CRASH_CHILD_DIR"

// TestCrash_KillNineWhileCleaning runs a child process that keeps updating
// 50 keys of a compacted log while cleaning it as fast as it can, and
// prints every update WaitDurable confirmed; the test kills it with SIGKILL
// at a random moment, reopens the directory (recovering any interrupted
// swap) and checks that each key's latest record is at least as new as the
// last one reported durable, and the same record when it is that one. Then
// the next child carries on in the same directory.
func TestCrash_KillNineWhileCleaning(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	type update struct {
		offset int64
		value  string
	}
	reported := map[string]update{}
	for cycle := range *killCycles {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCleanerCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		cleans := 0
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			once := sync.Once{}
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				switch {
				case len(f) == 1 && f[0] == "CLEANED":
					cleans++
					if cleans >= 2 {
						once.Do(func() { close(ready) })
					}
				case len(f) == 4 && f[0] == "DURABLE":
					off, _ := strconv.ParseInt(f[2], 10, 64)
					if off > reported[f[1]].offset || reported[f[1]].value == "" {
						reported[f[1]] = update{off, f[3]}
					}
				}
			}
			once.Do(func() { close(ready) })
		}()
		select {
		case <-ready:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatal("child never cleaned")
		}
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond) // land the kill anywhere in a clean
		cmd.Process.Signal(syscall.SIGKILL)
		wg.Wait()
		cmd.Wait()

		d, err := log.OpenDir(dir, log.Options{Logger: quiet, Config: func(log.TopicPartition) log.Config { return killConfig() }})
		if err != nil {
			t.Fatalf("cycle %d: reopen after kill -9: %v", cycle, err)
		}
		l, ok := d.Log(log.TopicPartition{Topic: "kill"})
		if !ok {
			t.Fatalf("cycle %d: partition lost", cycle)
		}
		latest := map[string]readRecord{}
		for _, r := range readAll(t, l) {
			latest[r.key] = r
		}
		for k, u := range reported {
			got, ok := latest[k]
			if !ok || got.offset < u.offset || (got.offset == u.offset && got.value != u.value) {
				t.Fatalf("cycle %d: key %s: latest durable update at %d (%s), log has %+v", cycle, k, u.offset, u.value, got)
			}
		}
		for _, name := range fileNames(t, vfs.OS, dir+"/kill-0") {
			if strings.HasSuffix(name, ".cleaned") || strings.HasSuffix(name, ".swap") {
				t.Fatalf("cycle %d: %s left after recovery", cycle, name)
			}
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("cycle %d: %d cleans, %d keys checked", cycle, cleans, len(reported))
	}
}

func killConfig() log.Config {
	c := compactConfig()
	c.SegmentBytes = 16 << 10
	return c
}

// TestCleanerCrashChild is the child process of the kill -9 test; it does
// nothing unless started by it.
func TestCleanerCrashChild(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("run by TestCrash_KillNineWhileCleaning")
	}
	d, err := log.OpenDir(dir, log.Options{FS: vfs.OS, Clock: clock.Real, Logger: quiet,
		Config: func(log.TopicPartition) log.Config { return killConfig() }})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	tp := log.TopicPartition{Topic: "kill"}
	l, ok := d.Log(tp)
	if !ok {
		if l, err = d.CreateLog(tp, killConfig()); err != nil {
			fmt.Fprintln(os.Stderr, "child create:", err)
			os.Exit(2)
		}
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		mu.Lock()
		fmt.Fprintf(w, format, args...)
		w.Flush()
		mu.Unlock()
	}
	c := New(d, Options{Logger: quiet, Bound: func(l *log.Log) (Bound, bool) { return Bound{UpperOffset: l.DurableOffset()}, true }})
	go func() {
		for {
			if ok, err := c.CleanLog(l); err != nil {
				fmt.Fprintln(os.Stderr, "child clean:", err)
				os.Exit(2)
			} else if ok {
				say("CLEANED\n")
			}
		}
	}()
	for i := 0; ; i++ {
		var recs []record.Record
		var keys []string
		for j := range 1 + i%5 {
			k := "key-" + strconv.Itoa((i*7+j*13)%50)
			keys = append(keys, k)
			recs = append(recs, record.Record{Key: []byte(k), Value: []byte(fmt.Sprintf("v%d.%d-%0200d", i, j, 0)), OffsetDelta: int32(j)})
		}
		spec := record.BatchSpec{BaseTimestamp: time.Now().UnixMilli(), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
		b, _ := record.AppendBatch(nil, spec, recs, record.Codec(i%5))
		info, err := l.Append(b, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child append:", err)
			os.Exit(2)
		}
		if err := l.WaitDurable(context.Background(), info.LastOffset+1); err != nil {
			fmt.Fprintln(os.Stderr, "child wait:", err)
			os.Exit(2)
		}
		for j, k := range keys {
			say("DURABLE %s %d %s\n", k, info.BaseOffset+int64(j), recs[j].Value)
		}
	}
}
