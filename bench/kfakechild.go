package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

// kfakeChildArg, as the first argument, makes this program run one kfake
// cluster instead of the benchmark. The benchmark starts kfake this way so
// that it is a separate process, as Basket is: the load generator and the
// broker do not share a Go heap, and the broker's RSS can be read from /proc.
const kfakeChildArg = "__kfake-child"

// kfakeChild serves a one-broker kfake cluster on 127.0.0.1:-port until
// SIGTERM or SIGINT. -mode picks the storage:
//
//	sync      DataDir + SyncWrites: segment files, fsync segment and index after every batch
//	disk      DataDir: segment files, page cache only
//	mem       kfake's default: batches kept on the Go heap
//	blackhole BlackholeProduce: acknowledge produce without storing the records
func kfakeChild(args []string) int {
	fs := flag.NewFlagSet(kfakeChildArg, flag.ContinueOnError)
	port := fs.Int("port", 0, "loopback port to listen on")
	mode := fs.String("mode", "sync", "sync, disk, mem or blackhole")
	dataDir := fs.String("data-dir", "", "directory for the sync and disk modes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(*port)}
	switch *mode {
	case "sync":
		opts = append(opts, kfake.DataDir(*dataDir), kfake.SyncWrites())
	case "disk":
		opts = append(opts, kfake.DataDir(*dataDir))
	case "mem":
	case "blackhole":
		opts = append(opts, kfake.BlackholeProduce())
	default:
		fmt.Fprintf(os.Stderr, "kfake child: unknown mode %q\n", *mode)
		return 2
	}
	if (*mode == "sync" || *mode == "disk") && *dataDir == "" {
		fmt.Fprintln(os.Stderr, "kfake child: -data-dir is required for modes sync and disk")
		return 2
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake child:", err)
		return 1
	}
	fmt.Printf("kfake child: mode %s listening on %v\n", *mode, c.ListenAddrs())
	s := <-sig
	fmt.Printf("kfake child: %s received, closing\n", s)
	c.Close()
	return 0
}
