package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

type resetFlags struct {
	topics    []string
	allTopics bool

	toEarliest, toLatest bool
	toOffset             int64
	toDatetime           string
	shiftBy              int64

	execute, dryRun bool
	out             output
}

func groupResetCommand(c *conn) *cobra.Command {
	var f resetFlags
	cmd := &cobra.Command{
		Use:   "reset-offsets GROUP (--topic T[:P,...] | --all-topics) (--to-earliest | --to-latest | --to-offset N | --to-datetime TS | --shift-by N)",
		Short: "Move a group's committed offsets (a dry run unless --execute)",
		Long: `Compute new committed offsets for a group and print them next to the current
ones. Nothing changes unless --execute is given, and --execute is refused while
the group has live members: stop its consumers first. New offsets are kept
between each partition's log start offset and its log end offset.

--topic takes a topic name, or name:partitions (orders:0,2) to reset only some
partitions; it may be repeated. --all-topics resets every topic the group has
committed offsets for. --to-datetime takes RFC 3339 (2024-05-01T12:00:00Z),
YYYY-MM-DDTHH:MM:SS[.sss] in local time, YYYY-MM-DD, or Unix milliseconds; it
moves to the first record at or after that time, or to the end if none is.
--shift-by moves the committed offset by N (negative to go back).`,
		Example: `  basket group reset-offsets billing --topic orders --to-earliest
  basket group reset-offsets billing --topic orders --to-earliest --execute
  basket group reset-offsets billing --topic orders:0,1 --shift-by -100 --execute
  basket group reset-offsets billing --all-topics --to-datetime 2024-05-01T00:00:00Z --execute`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return resetOffsets(cmd, c, &f, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.topics, "topic", nil, "topic, or topic:partition,partition, to reset; repeatable")
	fl.BoolVar(&f.allTopics, "all-topics", false, "reset every topic the group has committed offsets for")
	fl.BoolVar(&f.toEarliest, "to-earliest", false, "move to each partition's log start offset")
	fl.BoolVar(&f.toLatest, "to-latest", false, "move to each partition's log end offset")
	fl.Int64Var(&f.toOffset, "to-offset", -1, "move to this offset")
	fl.StringVar(&f.toDatetime, "to-datetime", "", "move to the first record at or after this time")
	fl.Int64Var(&f.shiftBy, "shift-by", 0, "move the committed offset by N")
	fl.BoolVar(&f.execute, "execute", false, "apply the new offsets")
	fl.BoolVar(&f.dryRun, "dry-run", false, "only show the new offsets (the default)")
	addOutputFlag(cmd, &f.out)
	return cmd
}

// resetPlan is one partition's current and new committed offset.
type resetPlan struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Current   int64  `json:"current_offset"`
	New       int64  `json:"new_offset"`
}

func (f *resetFlags) validate() error {
	if err := f.out.check(); err != nil {
		return err
	}
	if f.execute && f.dryRun {
		return errors.New("--execute and --dry-run exclude each other")
	}
	if len(f.topics) == 0 && !f.allTopics {
		return errors.New("give --topic or --all-topics")
	}
	if len(f.topics) > 0 && f.allTopics {
		return errors.New("give --topic or --all-topics, not both")
	}
	n := 0
	for _, set := range []bool{f.toEarliest, f.toLatest, f.toOffset >= 0, f.toDatetime != "", f.shiftBy != 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by")
	}
	return nil
}

// parseDatetime parses --to-datetime into Unix milliseconds.
func parseDatetime(s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms >= 0 {
		return ms, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixMilli(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.000", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("--to-datetime %q: want RFC 3339, YYYY-MM-DDTHH:MM:SS[.sss], YYYY-MM-DD or Unix milliseconds", s)
}

// parseTopicPartitions parses --topic values into topic → partitions (nil:
// all partitions).
func parseTopicPartitions(specs []string) (map[string][]int32, error) {
	out := map[string][]int32{}
	for _, s := range specs {
		name, ps, hasPs := strings.Cut(s, ":")
		if name == "" {
			return nil, fmt.Errorf("--topic %q: no topic name", s)
		}
		if !hasPs {
			out[name] = nil
			continue
		}
		for _, p := range strings.Split(ps, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("--topic %q: %q is not a partition number", s, p)
			}
			out[name] = append(out[name], int32(n))
		}
	}
	return out, nil
}

func resetOffsets(cmd *cobra.Command, c *conn, f *resetFlags, group string) error {
	if err := f.validate(); err != nil {
		return err
	}
	var atMs int64
	if f.toDatetime != "" {
		var err error
		if atMs, err = parseDatetime(f.toDatetime); err != nil {
			return err
		}
	}
	wanted, err := parseTopicPartitions(f.topics)
	if err != nil {
		return err
	}
	return c.adminRun(cmd, nil, func(ctx context.Context, adm *kadm.Client) error {
		return applyReset(ctx, cmd, adm, f, group, wanted, atMs)
	})
}

// applyReset plans the new offsets of the wanted partitions, prints them
// and, with --execute, commits them for the group.
func applyReset(ctx context.Context, cmd *cobra.Command, adm *kadm.Client, f *resetFlags, group string, wanted map[string][]int32, atMs int64) error {
	dg, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return err
	}
	g, ok := dg[group]
	if !ok {
		return fmt.Errorf("group %q: no answer from the broker", group)
	}
	if g.Err != nil {
		return groupErr(group, g.Err)
	}
	if f.execute && len(g.Members) > 0 {
		return fmt.Errorf("group %q has %d live members (state %s); stop its consumers before resetting offsets", group, len(g.Members), g.State)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return groupErr(group, err)
	}
	if f.allTopics {
		for t, ps := range committed {
			for p := range ps {
				wanted[t] = append(wanted[t], p)
			}
		}
		if len(wanted) == 0 {
			return fmt.Errorf("group %q has no committed offsets", group)
		}
	}
	plans, err := planReset(ctx, adm, f, wanted, committed, atMs)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	err = f.out.print(w, plans, func() error {
		t := newTable(w, "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET")
		for _, p := range plans {
			cur := fmt.Sprint(p.Current)
			if p.Current < 0 {
				cur = "-"
			}
			t.row(p.Topic, p.Partition, cur, p.New)
		}
		t.flush() // a failed write does not stop --execute
		return nil
	})
	if err != nil {
		return err
	}
	if !f.execute {
		fmt.Fprintln(cmd.ErrOrStderr(), "basket: dry run; add --execute to commit these offsets")
		return nil
	}
	offs := kadm.Offsets{}
	for _, p := range plans {
		offs.Add(kadm.Offset{Topic: p.Topic, Partition: p.Partition, At: p.New, LeaderEpoch: -1})
	}
	resp, err := adm.CommitOffsets(ctx, group, offs)
	if err != nil {
		return groupErr(group, err)
	}
	if err := resp.Error(); err != nil {
		return groupErr(group, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "basket: committed %d offsets for group %s\n", len(plans), group)
	return nil
}

// planReset computes the new offset of every wanted partition.
func planReset(ctx context.Context, adm *kadm.Client, f *resetFlags, wanted map[string][]int32, committed kadm.OffsetResponses, atMs int64) ([]resetPlan, error) {
	topics := make([]string, 0, len(wanted))
	for t := range wanted {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	offs, err := listTopicOffsets(ctx, adm, topics...)
	if err != nil {
		return nil, err
	}
	var times kadm.ListedOffsets
	if f.toDatetime != "" {
		if times, err = adm.ListOffsetsAfterMilli(ctx, atMs, topics...); err != nil {
			return nil, err
		}
	}
	var plans []resetPlan
	for _, t := range topics {
		ps := wanted[t]
		all := offs.details[t].Partitions.Numbers()
		if ps == nil {
			ps = all
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		for _, p := range ps {
			if int(p) >= len(all) {
				return nil, fmt.Errorf("topic %q has no partition %d (it has %d)", t, p, len(all))
			}
			s, _ := offs.starts.Lookup(t, p)
			e, _ := offs.ends.Lookup(t, p)
			if s.Err != nil || e.Err != nil {
				return nil, topicErr(t, errors.Join(s.Err, e.Err), "")
			}
			cur := int64(-1)
			if o, ok := committed.Lookup(t, p); ok && o.Err == nil {
				cur = o.At
			}
			var target int64
			switch {
			case f.toEarliest:
				target = s.Offset
			case f.toLatest:
				target = e.Offset
			case f.toOffset >= 0:
				target = f.toOffset
			case f.toDatetime != "":
				target = e.Offset
				if o, ok := times.Lookup(t, p); ok && o.Err == nil && o.Offset >= 0 {
					target = o.Offset
				}
			default:
				if cur < 0 {
					return nil, fmt.Errorf("topic %q partition %d: the group has no committed offset to shift", t, p)
				}
				target = cur + f.shiftBy
			}
			target = max(s.Offset, min(target, e.Offset))
			plans = append(plans, resetPlan{Topic: t, Partition: p, Current: cur, New: target})
		}
	}
	return plans, nil
}
