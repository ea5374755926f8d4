package main

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

func topicDeleteCommand(c *conn) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete topics and all their records",
		Example: `  basket topic delete orders
  basket topic delete old-1 old-2`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, names []string) error {
			return c.adminRun(cmd, nil, func(ctx context.Context, adm *kadm.Client) error {
				resp, err := adm.DeleteTopics(ctx, names...)
				if err != nil {
					return err
				}
				return reportDeleted(cmd.OutOrStdout(), "topic", names, func(name string) (bool, error) {
					r, ok := resp[name]
					return ok, topicErr(name, r.Err, r.ErrMessage)
				})
			})
		},
	}
	return cmd
}

func topicAddPartitionsCommand(c *conn) *cobra.Command {
	var to int
	cmd := &cobra.Command{
		Use:     "add-partitions NAME --to N",
		Short:   "Grow a topic to N partitions (partitions are never removed)",
		Example: `  basket topic add-partitions orders --to 12`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to <= 0 {
				return fmt.Errorf("--to must be a positive partition count, got %d", to)
			}
			return c.adminRun(cmd, nil, func(ctx context.Context, adm *kadm.Client) error {
				if _, err := requireTopics(ctx, adm, args[0]); err != nil {
					return err
				}
				resp, err := adm.UpdatePartitions(ctx, to, args[0])
				if err != nil {
					return err
				}
				r, err := resp.On(args[0], nil)
				if err != nil {
					return err
				}
				if r.Err != nil {
					return topicErr(args[0], r.Err, r.ErrMessage)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "topic %s now has %d partitions\n", args[0], to)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&to, "to", 0, "the partition count to grow to")
	return cmd
}

// alterFlags are --set and --delete of the commands that change configs.
type alterFlags struct{ set, del []string }

func addAlterFlags(cmd *cobra.Command, f *alterFlags) {
	cmd.Flags().StringArrayVar(&f.set, "set", nil, "key=value to set, repeatable")
	cmd.Flags().StringArrayVar(&f.del, "delete", nil, "key to remove (back to its default), repeatable")
}

// ops turns the flags into incremental alterations, sorted by key.
func (f *alterFlags) ops() ([]kadm.AlterConfig, error) {
	kv, err := parseKeyValues("--set", f.set)
	if err != nil {
		return nil, err
	}
	if len(kv) == 0 && len(f.del) == 0 {
		return nil, errors.New("nothing to change: give --set key=value or --delete key")
	}
	var ops []kadm.AlterConfig
	for k, v := range kv {
		ops = append(ops, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
	}
	for _, k := range f.del {
		if _, dup := kv[k]; dup {
			return nil, fmt.Errorf("%s is both set and deleted", k)
		}
		ops = append(ops, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Name < ops[j].Name })
	return ops, nil
}

// alterTopicConfigs applies ops to a topic with IncrementalAlterConfigs.
func alterTopicConfigs(ctx context.Context, adm *kadm.Client, topic string, ops []kadm.AlterConfig) error {
	if _, err := requireTopics(ctx, adm, topic); err != nil {
		return err
	}
	resp, err := adm.AlterTopicConfigs(ctx, ops, topic)
	if err != nil {
		return err
	}
	r, err := resp.On(topic, nil)
	if err != nil {
		return err
	}
	return topicErr(topic, r.Err, r.ErrMessage)
}

func topicAlterConfigCommand(c *conn) *cobra.Command {
	var f alterFlags
	cmd := &cobra.Command{
		Use:   "alter-config NAME --set key=value --delete key",
		Short: "Set or remove a topic's configs",
		Long:  `Change a topic's configs with IncrementalAlterConfigs; other configs keep their values.`,
		Example: `  basket topic alter-config orders --set retention.ms=3600000
  basket topic alter-config orders --delete retention.ms --set cleanup.policy=compact`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ops, err := f.ops()
			if err != nil {
				return err
			}
			return c.adminRun(cmd, nil, func(ctx context.Context, adm *kadm.Client) error {
				if err := alterTopicConfigs(ctx, adm, args[0], ops); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "altered configs of topic %s\n", args[0])
				return nil
			})
		},
	}
	addAlterFlags(cmd, &f)
	return cmd
}
