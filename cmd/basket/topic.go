package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/api"
)

// topicCommand is `basket topic`: create, list, describe, delete,
// add-partitions and alter-config, like kafka-topics.sh.
func topicCommand() *cobra.Command {
	return withConnCommands(&cobra.Command{
		Use:   "topic",
		Short: "Create, list, describe, delete and change topics",
		Example: `  basket topic create orders -p 6 -c retention.ms=86400000
  basket topic list
  basket topic describe orders --format json`,
	}, topicCreateCommand, topicListCommand, topicDescribeCommand,
		topicDeleteCommand, topicAddPartitionsCommand, topicAlterConfigCommand)
}

// kafkaID renders a topic id as Kafka prints a Uuid: URL-safe base64
// without padding.
func kafkaID(id kadm.TopicID) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func topicCreateCommand(c *conn) *cobra.Command {
	var (
		partitions int32
		rf         int16
		configs    []string
		out        output
	)
	cmd := &cobra.Command{
		Use:   "create NAME...",
		Short: "Create topics",
		Long: `Create one or more topics. Without -p or -r the broker's num.partitions and
default.replication.factor apply. -c sets a topic config (repeatable).`,
		Example: `  basket topic create orders
  basket topic create orders payments -p 6 -r 3
  basket topic create compacted -c cleanup.policy=compact -c min.compaction.lag.ms=60000`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, names []string) error {
			if err := out.check(); err != nil {
				return err
			}
			kv, err := parseKeyValues("-c", configs)
			if err != nil {
				return err
			}
			cfg := make(map[string]*string, len(kv))
			for k, v := range kv {
				cfg[k] = &v
			}
			return c.adminRun(cmd, nil, func(ctx context.Context, adm *kadm.Client) error {
				resp, err := adm.CreateTopics(ctx, partitions, rf, cfg, names...)
				if err != nil {
					return err
				}
				type created struct {
					Topic      string `json:"topic"`
					ID         string `json:"id,omitempty"`
					Partitions int32  `json:"partitions"`
					Replicas   int16  `json:"replication_factor"`
					Error      string `json:"error,omitempty"`
				}
				var rows []created
				var firstErr error
				for _, name := range names {
					r := resp[name]
					row := created{Topic: name, Partitions: r.NumPartitions, Replicas: r.ReplicationFactor}
					if r.Err != nil {
						e := topicErr(name, r.Err, r.ErrMessage)
						row.Error = e.Error()
						if firstErr == nil {
							firstErr = e
						}
					} else {
						row.ID = kafkaID(r.ID)
					}
					rows = append(rows, row)
				}
				w := cmd.OutOrStdout()
				err = out.print(w, rows, func() error {
					t := newTable(w, "TOPIC", "PARTITIONS", "REPLICAS", "STATUS")
					for _, r := range rows {
						if r.Error != "" {
							t.row(r.Topic, "-", "-", r.Error)
						} else {
							t.row(r.Topic, r.Partitions, r.Replicas, "created")
						}
					}
					t.flush() // a failed write leaves the outcome to firstErr
					return nil
				})
				if err != nil {
					return err
				}
				return firstErr
			})
		},
	}
	cmd.Flags().Int32VarP(&partitions, "partitions", "p", -1, "number of partitions (-1: the broker's num.partitions)")
	cmd.Flags().Int16VarP(&rf, "replication-factor", "r", -1, "replicas per partition (-1: the broker's default.replication.factor)")
	cmd.Flags().StringArrayVarP(&configs, "config", "c", nil, "topic config key=value, repeatable")
	addOutputFlag(cmd, &out)
	return cmd
}

func topicListCommand(c *conn) *cobra.Command {
	var (
		internal bool
		out      output
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List topics with their partition and replica counts",
		Example: `  basket topic list
  basket topic list --internal --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.adminRun(cmd, &out, func(ctx context.Context, adm *kadm.Client) error {
				var td kadm.TopicDetails
				var err error
				if internal {
					td, err = adm.ListTopicsWithInternal(ctx)
				} else {
					td, err = adm.ListTopics(ctx)
				}
				if err != nil {
					return err
				}
				type listed struct {
					Topic      string `json:"topic"`
					ID         string `json:"id"`
					Partitions int    `json:"partitions"`
					Replicas   int    `json:"replication_factor"`
					Internal   bool   `json:"internal"`
				}
				rows := []listed{}
				for _, d := range td.Sorted() {
					rows = append(rows, listed{d.Topic, kafkaID(d.ID), len(d.Partitions), d.Partitions.NumReplicas(), d.IsInternal})
				}
				w := cmd.OutOrStdout()
				return out.print(w, rows, func() error {
					t := newTable(w, "TOPIC", "PARTITIONS", "REPLICAS")
					for _, r := range rows {
						t.row(r.Topic, r.Partitions, r.Replicas)
					}
					return t.flush()
				})
			})
		},
	}
	cmd.Flags().BoolVarP(&internal, "internal", "i", false, "include internal topics such as __consumer_offsets")
	addOutputFlag(cmd, &out)
	return cmd
}

// describedTopic is what `topic describe` prints for one topic.
type describedTopic struct {
	Topic      string               `json:"topic"`
	ID         string               `json:"id"`
	Internal   bool                 `json:"internal"`
	Replicas   int                  `json:"replication_factor"`
	Partitions []describedPartition `json:"partitions"`
	// Configs are the topic's configs whose source is not the default.
	Configs []describedConfig `json:"configs"`
}

type describedPartition struct {
	Partition      int32   `json:"partition"`
	Leader         int32   `json:"leader"`
	LeaderEpoch    int32   `json:"leader_epoch"`
	Replicas       []int32 `json:"replicas"`
	ISR            []int32 `json:"isr"`
	LogStartOffset int64   `json:"log_start_offset"`
	HighWatermark  int64   `json:"high_watermark"`
	// DirtyRatio is the log cleaner's dirty ratio of a compacted topic's
	// partition, from Basket's DescribeLogDirs extension; absent for other
	// topics and from brokers that do not report it (Apache Kafka).
	DirtyRatio *float64 `json:"dirty_ratio,omitempty"`
	Error      string   `json:"error,omitempty"`
}

type describedConfig struct {
	Key       string  `json:"key"`
	Value     *string `json:"value"`
	Source    string  `json:"source"`
	Sensitive bool    `json:"sensitive,omitempty"`
}

func configRows(cs []kadm.Config, nonDefault bool) []describedConfig {
	rows := []describedConfig{}
	for _, cfg := range cs {
		if nonDefault && cfg.Source == kmsg.ConfigSourceDefaultConfig {
			continue
		}
		rows = append(rows, describedConfig{cfg.Key, cfg.Value, cfg.Source.String(), cfg.Sensitive})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key < rows[j].Key })
	return rows
}

func describeTopics(ctx context.Context, cl *kgo.Client, adm *kadm.Client, names []string) ([]describedTopic, error) {
	offs, err := listTopicOffsets(ctx, adm, names...)
	if err != nil {
		return nil, err
	}
	ratios := dirtyRatios(ctx, cl, names)
	rcs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return nil, err
	}
	var out []describedTopic
	for _, name := range names {
		d := offs.details[name]
		dt := describedTopic{Topic: name, ID: kafkaID(d.ID), Internal: d.IsInternal, Replicas: d.Partitions.NumReplicas(), Partitions: []describedPartition{}}
		for _, p := range d.Partitions.Sorted() {
			dp := describedPartition{Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
				Replicas: nonNil(p.Replicas), ISR: nonNil(p.ISR), LogStartOffset: -1, HighWatermark: -1}
			if s, ok := offs.starts.Lookup(name, p.Partition); ok && s.Err == nil {
				dp.LogStartOffset = s.Offset
			}
			if e, ok := offs.ends.Lookup(name, p.Partition); ok && e.Err == nil {
				dp.HighWatermark = e.Offset
			}
			if r, ok := ratios[name][p.Partition]; ok {
				dp.DirtyRatio = &r
			}
			if p.Err != nil {
				dp.Error = kafkaErr(p.Err, "").Error()
			}
			dt.Partitions = append(dt.Partitions, dp)
		}
		if rc, err := rcs.On(name, nil); err == nil && rc.Err == nil {
			dt.Configs = configRows(rc.Configs, true)
		} else {
			dt.Configs = []describedConfig{}
		}
		out = append(out, dt)
	}
	return out, nil
}

// dirtyRatios asks every broker for the dirty ratios of the topics'
// compacted partitions (DescribeLogDirs with Basket's tagged field; see
// internal/api/35_describe_log_dirs.go). It is best effort: a broker that
// cannot answer, or does not report them, leaves them out.
func dirtyRatios(ctx context.Context, cl *kgo.Client, names []string) map[string]map[int32]float64 {
	req := kmsg.NewPtrDescribeLogDirsRequest()
	for _, name := range names {
		rt := kmsg.NewDescribeLogDirsRequestTopic()
		rt.Topic = name
		req.Topics = append(req.Topics, rt)
	}
	// An empty partition list means none; ask for the topics' partitions.
	td, err := kadm.NewClient(cl).ListTopics(ctx, names...)
	if err != nil {
		return nil
	}
	for i := range req.Topics {
		for _, p := range td[req.Topics[i].Topic].Partitions.Sorted() {
			req.Topics[i].Partitions = append(req.Topics[i].Partitions, p.Partition)
		}
	}
	out := map[string]map[int32]float64{}
	for _, shard := range cl.RequestSharded(ctx, req) {
		resp, ok := shard.Resp.(*kmsg.DescribeLogDirsResponse)
		if shard.Err != nil || !ok {
			continue
		}
		for _, d := range resp.Dirs {
			for _, dt := range d.Topics {
				for i := range dt.Partitions {
					if r, ok := api.DirtyRatioOf(&dt.Partitions[i]); ok {
						if out[dt.Topic] == nil {
							out[dt.Topic] = map[int32]float64{}
						}
						out[dt.Topic][dt.Partitions[i].Partition] = r
					}
				}
			}
		}
	}
	return out
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return slices.Clone(s)
}

func topicDescribeCommand(c *conn) *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "describe NAME...",
		Short: "Show a topic's partitions, leaders, replicas, ISR, offsets and non-default configs",
		Long: `Show each topic's id, its partitions (leader, leader epoch, replicas, in-sync
replicas, log start offset and high watermark, and for a compacted topic the log
cleaner's dirty ratio: the share of the cleanable log not cleaned yet, which the
cleaner compares with min.cleanable.dirty.ratio) and the configs set on the
topic or its broker rather than left at their defaults.`,
		Example: `  basket topic describe orders
  basket topic describe orders payments --format json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, names []string) error {
			return c.adminRun(cmd, &out, func(ctx context.Context, adm *kadm.Client) error {
				cl, err := c.client(ctx)
				if err != nil {
					return err
				}
				defer cl.Close()
				topics, err := describeTopics(ctx, cl, adm, names)
				if err != nil {
					return err
				}
				return printEach(cmd.OutOrStdout(), &out, topics, printTopic)
			})
		},
	}
	addOutputFlag(cmd, &out)
	return cmd
}

func printTopic(w io.Writer, dt describedTopic) {
	t := newTable(w)
	t.row("TOPIC", dt.Topic)
	t.row("ID", dt.ID)
	t.row("INTERNAL", dt.Internal)
	t.row("PARTITIONS", len(dt.Partitions))
	t.row("REPLICATION-FACTOR", dt.Replicas)
	t.flush()
	if len(dt.Configs) > 0 {
		fmt.Fprintln(w)
		t = newTable(w, "CONFIG", "VALUE", "SOURCE")
		for _, cfg := range dt.Configs {
			t.row(cfg.Key, configValue(cfg), cfg.Source)
		}
		t.flush()
	}
	fmt.Fprintln(w)
	compacted := slices.ContainsFunc(dt.Partitions, func(p describedPartition) bool { return p.DirtyRatio != nil })
	cols := []string{"PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "LOG-START-OFFSET", "HIGH-WATERMARK"}
	if compacted {
		cols = append(cols, "DIRTY-RATIO")
	}
	t = newTable(w, cols...)
	for _, p := range dt.Partitions {
		row := []any{p.Partition, p.Leader, p.LeaderEpoch, int32List(p.Replicas), int32List(p.ISR), p.LogStartOffset, p.HighWatermark}
		if compacted {
			ratio := "-"
			if p.DirtyRatio != nil {
				ratio = strconv.FormatFloat(*p.DirtyRatio, 'f', 2, 64)
			}
			row = append(row, ratio)
		}
		t.row(row...)
	}
	t.flush()
}

func configValue(c describedConfig) string {
	switch {
	case c.Sensitive:
		return "(sensitive)"
	case c.Value == nil:
		return "(null)"
	}
	return *c.Value
}
