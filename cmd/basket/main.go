package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal asks a command to finish, a second
		// one ends the process at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code: 0 on success,
// 1 after printing a one-line "basket: ..." error to stderr. Cancelling
// ctx (SIGINT or SIGTERM in main) asks long-running client commands
// (consume, perf) to finish cleanly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		if isUsageError(err) && cmd != nil && cmd != root {
			name := strings.TrimPrefix(cmd.CommandPath(), root.Name()+" ")
			err = fmt.Errorf("%s: %w (see %s --help)", name, err, cmd.CommandPath())
		}
		fmt.Fprintln(stderr, "basket:", err)
		return 1
	}
	return 0
}

// isUsageError reports whether err is cobra's complaint about the command
// line rather than a failure of the command, so the message can name the
// command and point at its help.
func isUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"requires ", "accepts ", "unknown flag", "unknown shorthand", "invalid argument", "flag needs", "bad flag", "if any flags"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// rootCommand is the basket command with every subcommand. Commands write
// through cmd.OutOrStdout and cmd.ErrOrStderr, so tests capture both.
func rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "basket",
		Short:         "Basket: a Kafka-compatible streaming platform in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetGlobalNormalizationFunc(flagAliases)
	root.AddCommand(serveCommand())
	root.AddCommand(topicCommand(), produceCommand(), consumeCommand(), groupCommand(),
		configCommand(), clusterCommand(), perfCommand(), txnCommand(), dumpLogCommand())
	return root
}

// kafkaFlagNames maps flag names of Kafka's shell tools (and rpk) to ours, so
// the flags people already type work: --brokers, --max-messages,
// --isolation-level, --compression-codec, --request-required-acks.
var kafkaFlagNames = map[string]string{
	"brokers":               "bootstrap-server",
	"max-messages":          "num",
	"isolation-level":       "isolation",
	"compression-codec":     "compression",
	"request-required-acks": "acks",
}

// flagAliases is the flag-name normalization of every command.
func flagAliases(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	if to, ok := kafkaFlagNames[name]; ok {
		name = to
	}
	return pflag.NormalizedName(name)
}
