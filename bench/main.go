// Command bench is Basket's load benchmark. It builds the basket binary,
// starts Basket and franz-go's kfake in several modes as child processes on
// loopback, drives each with a kgo producer, and prints throughput, publish
// latency and broker memory side by side with the ratios between them, so
// that one run on a noisy machine yields comparable numbers. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == kfakeChildArg {
		os.Exit(kfakeChild(os.Args[2:]))
	}
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run owns the temporary directory and, through runOne, every child
// process: both are gone when it returns, whether it succeeds, fails or is
// interrupted.
func run(o *options) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	dir, err := os.MkdirTemp(o.tmpDir, "basket-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	e := &env{opts: o, dir: dir, selfBin: self, basketBin: o.basketBin}
	if needsBasket(o) && e.basketBin == "" {
		if e.basketBin, err = buildBasket(ctx, o.basketSrc, dir); err != nil {
			return err
		}
	}

	loadBefore := loadAverage()
	fmt.Printf("Basket load benchmark, %s\n", time.Now().Format(time.RFC3339))
	fmt.Printf("machine: %d CPUs, GOMAXPROCS %d, %s; load average before: %s\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), loadBefore)
	fmt.Printf("brokers (each a fresh child process on 127.0.0.1, one node, topic %q with %d partitions):\n", topic, o.partitions)
	for _, name := range o.allBrokers() {
		fmt.Printf("  %-16s %s\n", name, lookupSpec(name).about)
	}
	if len(o.basketOverrides) > 0 {
		fmt.Printf("  basket overrides: %s\n", strings.Join(o.basketOverrides, " "))
	}

	var results []*result
	for round := 1; round <= o.rounds; round++ {
		for _, phase := range []string{phaseThroughput, phaseLatency} {
			if !o.has(phase) {
				continue
			}
			for _, name := range o.brokers {
				results = append(results, runOne(ctx, e, lookupSpec(name), phase, round))
				if ctx.Err() != nil {
					return errors.New("interrupted")
				}
			}
		}
	}
	if o.has(phaseRSS) {
		for _, name := range o.rssBrokers {
			results = append(results, runOne(ctx, e, lookupSpec(name), phaseRSS, 1))
			if ctx.Err() != nil {
				return errors.New("interrupted")
			}
		}
	}

	report(os.Stdout, o, results)
	fmt.Printf("\nload average before: %s, after: %s\n", loadBefore, loadAverage())
	for _, r := range results {
		if r.err != nil {
			return errors.New("some runs failed, see FAILED above")
		}
	}
	return nil
}

// buildBasket builds ./cmd/basket of the module at src into dir.
func buildBasket(ctx context.Context, src, dir string) (string, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "basket")
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/basket")
	cmd.Dir = abs
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/basket in %s: %w\n%s", abs, err, out)
	}
	fmt.Fprintf(os.Stderr, "bench: built basket from %s in %s\n", abs, time.Since(start).Round(time.Millisecond))
	return bin, nil
}

func needsBasket(o *options) bool {
	for _, name := range o.allBrokers() {
		if lookupSpec(name).kfakeMode == "" {
			return true
		}
	}
	return false
}
