package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// groupCommand is `basket group`, like kafka-consumer-groups.sh.
func groupCommand() *cobra.Command {
	return withConnCommands(&cobra.Command{
		Use:     "group",
		Aliases: []string{"groups"},
		Short:   "List, describe, reset and delete consumer groups",
		Example: `  basket group list
  basket group describe billing
  basket group reset-offsets billing --topic orders --to-earliest --execute`,
	}, groupListCommand, groupDescribeCommand, groupResetCommand, groupDeleteCommand)
}

func groupListCommand(c *conn) *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List consumer groups with their state",
		Example: `  basket group list
  basket group list --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.adminRun(cmd, &out, func(ctx context.Context, adm *kadm.Client) error {
				groups, err := adm.ListGroups(ctx)
				if err != nil {
					return err
				}
				type listed struct {
					Group        string `json:"group"`
					State        string `json:"state"`
					ProtocolType string `json:"protocol_type"`
					Coordinator  int32  `json:"coordinator"`
				}
				rows := []listed{}
				for _, g := range groups.Sorted() {
					rows = append(rows, listed{g.Group, g.State, g.ProtocolType, g.Coordinator})
				}
				w := cmd.OutOrStdout()
				return out.print(w, rows, func() error {
					t := newTable(w, "GROUP", "STATE", "PROTOCOL-TYPE", "COORDINATOR")
					for _, r := range rows {
						t.row(r.Group, dash(r.State), dash(r.ProtocolType), r.Coordinator)
					}
					return t.flush()
				})
			})
		},
	}
	addOutputFlag(cmd, &out)
	return cmd
}

// describedGroup is what `group describe` prints for one group.
type describedGroup struct {
	Group        string           `json:"group"`
	State        string           `json:"state"`
	ProtocolType string           `json:"protocol_type"`
	Protocol     string           `json:"protocol"`
	Coordinator  int32            `json:"coordinator"`
	Members      []groupMember    `json:"members"`
	Offsets      []groupPartition `json:"offsets"`
	TotalLag     int64            `json:"total_lag"`
}

type groupMember struct {
	MemberID   string             `json:"member_id"`
	InstanceID *string            `json:"instance_id"`
	ClientID   string             `json:"client_id"`
	ClientHost string             `json:"client_host"`
	Assigned   map[string][]int32 `json:"assigned"`
}

type groupPartition struct {
	Topic        string `json:"topic"`
	Partition    int32  `json:"partition"`
	CommitOffset int64  `json:"committed_offset"`
	LogEndOffset int64  `json:"log_end_offset"`
	Lag          int64  `json:"lag"`
	MemberID     string `json:"member_id"`
	Error        string `json:"error,omitempty"`
}

func describeGroup(ctx context.Context, adm *kadm.Client, name string) (describedGroup, error) {
	lags, err := adm.Lag(ctx, name)
	if err != nil {
		return describedGroup{}, err
	}
	l, ok := lags[name]
	if !ok {
		return describedGroup{}, fmt.Errorf("group %q: no answer from the broker", name)
	}
	if err := l.Error(); err != nil {
		return describedGroup{}, groupErr(name, err)
	}
	if l.State == "Dead" {
		return describedGroup{}, fmt.Errorf("group %q does not exist", name)
	}
	d := describedGroup{Group: name, State: l.State, ProtocolType: l.ProtocolType, Protocol: l.Protocol,
		Coordinator: l.Coordinator.NodeID, Members: []groupMember{}, Offsets: []groupPartition{}}
	for _, m := range l.Members {
		gm := groupMember{MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, ClientHost: m.ClientHost, Assigned: map[string][]int32{}}
		if ca, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range ca.Topics {
				ps := append([]int32(nil), t.Partitions...)
				sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
				gm.Assigned[t.Topic] = ps
			}
		}
		d.Members = append(d.Members, gm)
	}
	for _, ml := range l.Lag.Sorted() {
		gp := groupPartition{Topic: ml.Topic, Partition: ml.Partition, CommitOffset: ml.Commit.At, LogEndOffset: ml.End.Offset, Lag: ml.Lag}
		if ml.Member != nil {
			gp.MemberID = ml.Member.MemberID
		}
		if ml.Err != nil {
			gp.Error = kafkaErr(ml.Err, "").Error()
		} else if ml.Lag > 0 {
			d.TotalLag += ml.Lag
		}
		d.Offsets = append(d.Offsets, gp)
	}
	return d, nil
}

// groupErr words a group-level error; an unknown group reads
// `group "x" does not exist`.
func groupErr(name string, err error) error {
	if errors.Is(err, kerr.GroupIDNotFound) {
		return fmt.Errorf("group %q does not exist", name)
	}
	return fmt.Errorf("group %q: %w", name, kafkaErr(err, ""))
}

func groupDescribeCommand(c *conn) *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show a group's state, members, assignment, committed offsets and lag",
		Long: `Show a group's state, members and their assigned partitions, and for every
partition the group has a committed offset for or is assigned: the committed
offset, the log end offset (high watermark), the LAG between them, and the
total lag. A partition without a committed offset shows "-".`,
		Example: `  basket group describe billing
  basket group describe billing --format json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, names []string) error {
			return c.adminRun(cmd, &out, func(ctx context.Context, adm *kadm.Client) error {
				var groups []describedGroup
				for _, name := range names {
					d, err := describeGroup(ctx, adm, name)
					if err != nil {
						return err
					}
					groups = append(groups, d)
				}
				return printEach(cmd.OutOrStdout(), &out, groups, printGroup)
			})
		},
	}
	addOutputFlag(cmd, &out)
	return cmd
}

func printGroup(w io.Writer, d describedGroup) {
	t := newTable(w)
	t.row("GROUP", d.Group)
	t.row("STATE", d.State)
	t.row("PROTOCOL", dash(strings.Trim(d.ProtocolType+"/"+d.Protocol, "/")))
	t.row("COORDINATOR", d.Coordinator)
	t.row("MEMBERS", len(d.Members))
	t.row("TOTAL-LAG", d.TotalLag)
	t.flush()
	if len(d.Members) > 0 {
		fmt.Fprintln(w)
		t = newTable(w, "MEMBER-ID", "INSTANCE-ID", "CLIENT-ID", "HOST", "ASSIGNED")
		for _, m := range d.Members {
			inst := "-"
			if m.InstanceID != nil {
				inst = *m.InstanceID
			}
			t.row(m.MemberID, inst, m.ClientID, m.ClientHost, dash(assignedString(m.Assigned)))
		}
		t.flush()
	}
	fmt.Fprintln(w)
	t = newTable(w, "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID")
	for _, p := range d.Offsets {
		commit, lag := fmt.Sprint(p.CommitOffset), fmt.Sprint(p.Lag)
		if p.CommitOffset < 0 {
			commit = "-"
		}
		if p.Lag < 0 {
			lag = "-"
		}
		if p.Error != "" {
			lag = p.Error
		}
		t.row(p.Topic, p.Partition, commit, p.LogEndOffset, lag, dash(p.MemberID))
	}
	t.flush()
}

// assignedString renders an assignment as "orders:0,1 payments:2".
func assignedString(a map[string][]int32) string {
	topics := make([]string, 0, len(a))
	for t := range a {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	var parts []string
	for _, t := range topics {
		parts = append(parts, t+":"+int32List(a[t]))
	}
	return strings.Join(parts, " ")
}

func groupDeleteCommand(c *conn) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "delete GROUP...",
		Aliases: []string{"rm"},
		Short:   "Delete consumer groups and their committed offsets (the groups must be empty)",
		Example: `  basket group delete billing`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, names []string) error {
			return c.adminRun(cmd, nil, func(ctx context.Context, adm *kadm.Client) error {
				resp, err := adm.DeleteGroups(ctx, names...)
				if err != nil {
					return err
				}
				return reportDeleted(cmd.OutOrStdout(), "group", names, func(name string) (bool, error) {
					r, ok := resp[name]
					switch {
					case errors.Is(r.Err, kerr.NonEmptyGroup):
						return ok, fmt.Errorf("group %q has live members; stop them before deleting it", name)
					case r.Err != nil:
						return ok, groupErr(name, r.Err)
					}
					return ok, nil
				})
			})
		},
	}
	return cmd
}
