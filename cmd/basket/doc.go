// Command basket is Basket's single binary: the broker (basket serve) and
// the tools people use around a broker, one file per subcommand: topic,
// produce, consume, group, config, cluster, perf, txn and dump-log
// (docs/cli.md). The tools are Kafka clients built on franz-go (kgo, kadm)
// and work against any Kafka-compatible cluster; dump-log reads a data
// directory offline.
//
// Every command writes through cobra's OutOrStdout and ErrOrStderr and reads
// InOrStdin, so run (main.go) can be driven by tests with buffers. A runtime
// failure is returned as an error that run prints as one "basket: ..." line,
// exiting 1. Long-running commands (consume, produce, perf) end cleanly when
// the context passed to run is cancelled, which main does on SIGINT/SIGTERM.
package main
