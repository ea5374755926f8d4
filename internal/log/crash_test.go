package log

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
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

var crashCycles = flag.Int("crash.cycles", 25, "kill -9 cycles in TestCrash_KillNineKeepsDurableBatches")

const crashChildEnv = "BASKET_LOG_CRASH_CHILD_DIR"

// TestCrash_KillNineKeepsDurableBatches runs a child process that appends to
// four partitions and prints every batch WaitDurable confirmed; the test
// kills it with SIGKILL at a random moment, reopens the log directory
// (recovering it), and checks that every reported batch is readable,
// identical and at its offset, and that nothing served fails its CRC. Then
// it starts the next child on the same directory, many cycles over.
func TestCrash_KillNineKeepsDurableBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	type durable struct {
		tp   TopicPartition
		base int64
		size int64
		crc  uint32
	}
	var all []durable
	for cycle := range *crashCycles {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var got []durable
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(out)
			once := sync.Once{}
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) == 1 && f[0] == "READY" {
					once.Do(func() { close(ready) })
				}
				if len(f) != 6 || f[0] != "DURABLE" {
					continue
				}
				p, _ := strconv.Atoi(f[2])
				base, _ := strconv.ParseInt(f[3], 10, 64)
				size, _ := strconv.ParseInt(f[4], 10, 64)
				crc, _ := strconv.ParseUint(f[5], 10, 32)
				got = append(got, durable{TopicPartition{f[1], int32(p)}, base, size, uint32(crc)})
			}
			once.Do(func() { close(ready) })
		}()
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("child never became ready")
		}
		time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		wg.Wait()
		cmd.Wait()
		all = append(all, got...)

		d, err := OpenDir(dir, Options{Config: func(TopicPartition) Config { return crashConfig() }})
		if err != nil {
			t.Fatalf("cycle %d: reopen after kill -9: %v", cycle, err)
		}
		if d.HadCleanShutdown() {
			t.Fatalf("cycle %d: a killed child looked like a clean shutdown", cycle)
		}
		for _, w := range all {
			l, ok := d.Log(w.tp)
			if !ok {
				t.Fatalf("cycle %d: partition %s lost", cycle, w.tp)
			}
			r, err := l.Read(w.base, 1)
			if err != nil {
				t.Fatalf("cycle %d: durable batch %s@%d: %v", cycle, w.tp, w.base, err)
			}
			b, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			h, err := record.Validate(b)
			if err != nil || r.BaseOffset != w.base || h.Size() != w.size || h.CRC != w.crc {
				t.Fatalf("cycle %d: durable batch %s@%d changed: %+v, %v", cycle, w.tp, w.base, h, err)
			}
		}
		for _, l := range d.Logs() {
			readAllBatches(t, l, l.LogStartOffset())
		}
		// Leave the directory as a crash would, half the time, so the next
		// child recovers too; otherwise shut down cleanly.
		if rng.IntN(2) == 0 {
			close(d.quit)
			d.wg.Wait()
			d.closed = true
			d.closeLogs()
		} else if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("cycle %d: %d batches reported durable, %d checked in total", cycle, len(got), len(all))
	}
}

func crashConfig() Config {
	c := DefaultConfig()
	c.SegmentBytes = 256 << 10
	return c
}

// TestCrashChild is the child process of the crash test; it does nothing
// unless started by it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("run by TestCrash_KillNineKeepsDurableBatches")
	}
	d, err := OpenDir(dir, Options{FS: vfs.OS, Clock: clock.Real, Config: func(TopicPartition) Config { return crashConfig() }})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	var outMu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "READY")
	w.Flush()
	var wg sync.WaitGroup
	for p := range 4 {
		tp := TopicPartition{"crash", int32(p)}
		l, ok := d.Log(tp)
		if !ok {
			if l, err = d.CreateLog(tp, crashConfig()); err != nil {
				fmt.Fprintln(os.Stderr, "child create:", err)
				os.Exit(2)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				b := testBatch(1+i%10, 10+(i*37)%3000, time.Now().UnixMilli())
				info, err := l.Append(b, 0)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(2)
				}
				if err := l.WaitDurable(context.Background(), info.LastOffset+1); err != nil {
					fmt.Fprintln(os.Stderr, "child wait:", err)
					os.Exit(2)
				}
				h, _ := record.ParseHeader(b)
				outMu.Lock()
				fmt.Fprintf(w, "DURABLE %s %d %d %d %d\n", tp.Topic, tp.Partition, info.BaseOffset, len(b), h.CRC)
				w.Flush()
				outMu.Unlock()
			}
		}()
	}
	wg.Wait()
}
