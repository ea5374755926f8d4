package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnCommand is `basket txn`, like kafka-transactions.sh list and
// describe.
func txnCommand() *cobra.Command {
	var c conn
	cmd := &cobra.Command{
		Use:     "txn",
		Aliases: []string{"transactions"},
		Short:   "List and describe transactional producers",
		Example: `  basket txn list
  basket txn describe payments-tx-1`,
	}
	addConnFlags(cmd, &c)
	cmd.AddCommand(txnListCommand(&c), txnDescribeCommand(&c))
	return cmd
}

// requireAPI fails unless every broker that answers ApiVersions supports
// key, naming the API.
func requireAPI(ctx context.Context, adm *kadm.Client, key int16) error {
	vs, err := adm.ApiVersions(ctx)
	if err != nil {
		return err
	}
	for _, v := range vs.Sorted() {
		if v.Err != nil {
			continue
		}
		if _, ok := v.KeyMaxVersion(key); ok {
			return nil
		}
	}
	return fmt.Errorf("the cluster does not support %s (API key %d)", kmsg.NameForKey(key), key)
}

func txnListCommand(c *conn) *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List transactional ids with their producer id and state",
		Example: `  basket txn list
  basket txn list --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.adminRun(cmd, &out, func(ctx context.Context, adm *kadm.Client) error {
				if err := requireAPI(ctx, adm, kmsg.ListTransactions.Int16()); err != nil {
					return err
				}
				ls, err := adm.ListTransactions(ctx, nil, nil)
				if err != nil {
					return kafkaErr(err, "")
				}
				type listed struct {
					TxnID       string `json:"transactional_id"`
					ProducerID  int64  `json:"producer_id"`
					State       string `json:"state"`
					Coordinator int32  `json:"coordinator"`
				}
				rows := []listed{}
				for _, l := range ls.Sorted() {
					rows = append(rows, listed{l.TxnID, l.ProducerID, l.State, l.Coordinator})
				}
				return out.print(cmd.OutOrStdout(), rows, func() error {
					t := newTable(cmd.OutOrStdout(), "TRANSACTIONAL-ID", "PRODUCER-ID", "STATE", "COORDINATOR")
					for _, r := range rows {
						t.row(r.TxnID, r.ProducerID, r.State, r.Coordinator)
					}
					return t.flush()
				})
			})
		},
	}
	addOutputFlag(cmd, &out)
	return cmd
}

// describedTxn is what `txn describe` prints for one transactional id.
type describedTxn struct {
	TxnID          string             `json:"transactional_id"`
	Coordinator    int32              `json:"coordinator"`
	State          string             `json:"state"`
	ProducerID     int64              `json:"producer_id"`
	ProducerEpoch  int16              `json:"producer_epoch"`
	TimeoutMs      int32              `json:"timeout_ms"`
	StartTimestamp int64              `json:"start_timestamp"`
	Partitions     map[string][]int32 `json:"partitions"`
}

func txnDescribeCommand(c *conn) *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "describe TRANSACTIONAL-ID...",
		Short: "Show a transaction's state, producer id and epoch, timeout and partitions",
		Example: `  basket txn describe payments-tx-1
  basket txn describe payments-tx-1 --format json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, ids []string) error {
			return c.adminRun(cmd, &out, func(ctx context.Context, adm *kadm.Client) error {
				rows, err := describeTxns(ctx, adm, ids)
				if err != nil {
					return err
				}
				return printEach(cmd.OutOrStdout(), &out, rows, printTxn)
			})
		},
	}
	addOutputFlag(cmd, &out)
	return cmd
}

// describeTxns describes the transactional ids, failing on the first that
// does not exist or cannot be described.
func describeTxns(ctx context.Context, adm *kadm.Client, ids []string) ([]describedTxn, error) {
	if err := requireAPI(ctx, adm, kmsg.DescribeTransactions.Int16()); err != nil {
		return nil, err
	}
	ds, err := adm.DescribeTransactions(ctx, ids...)
	if err != nil {
		return nil, kafkaErr(err, "")
	}
	var rows []describedTxn
	for _, id := range ids {
		d, ok := ds[id]
		switch {
		case !ok:
			return nil, fmt.Errorf("transactional id %q: no answer from the broker", id)
		case errors.Is(d.Err, kerr.TransactionalIDNotFound):
			return nil, fmt.Errorf("transactional id %q does not exist", id)
		case d.Err != nil:
			return nil, fmt.Errorf("transactional id %q: %w", id, kafkaErr(d.Err, ""))
		}
		parts := map[string][]int32{}
		for t, ps := range d.Topics {
			for p := range ps {
				parts[t] = append(parts[t], p)
			}
			sort.Slice(parts[t], func(i, j int) bool { return parts[t][i] < parts[t][j] })
		}
		rows = append(rows, describedTxn{id, d.Coordinator, d.State, d.ProducerID, d.ProducerEpoch,
			d.TimeoutMillis, d.StartTimestamp, parts})
	}
	return rows, nil
}

// printTxn writes one described transaction as a two-column table.
func printTxn(w io.Writer, r describedTxn) {
	t := newTable(w)
	t.row("TRANSACTIONAL-ID", r.TxnID)
	t.row("STATE", r.State)
	t.row("PRODUCER-ID", r.ProducerID)
	t.row("PRODUCER-EPOCH", r.ProducerEpoch)
	t.row("TIMEOUT-MS", r.TimeoutMs)
	t.row("START-TIMESTAMP", r.StartTimestamp)
	t.row("COORDINATOR", r.Coordinator)
	t.row("PARTITIONS", dash(assignedString(r.Partitions)))
	t.flush()
}
