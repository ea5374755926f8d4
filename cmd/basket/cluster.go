package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// clusterCommand is `basket cluster`.
func clusterCommand() *cobra.Command {
	return withConnCommands(&cobra.Command{
		Use:   "cluster",
		Short: "Show the cluster",
		Example: `  basket cluster info
  basket cluster info --format json -b broker1:9092`,
	}, clusterInfoCommand)
}

// clusterInfo is what `cluster info` prints.
type clusterInfo struct {
	ClusterID  string          `json:"cluster_id"`
	Controller int32           `json:"controller"`
	Brokers    []clusterBroker `json:"brokers"`
	Topics     []clusterTopic  `json:"topics"`
}

type clusterBroker struct {
	NodeID int32   `json:"node_id"`
	Host   string  `json:"host"`
	Port   int32   `json:"port"`
	Rack   *string `json:"rack"`
}

type clusterTopic struct {
	Topic      string `json:"topic"`
	Partitions int    `json:"partitions"`
	Replicas   int    `json:"replication_factor"`
	Internal   bool   `json:"internal"`
}

func clusterInfoCommand(c *conn) *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the cluster id, controller, brokers and topics",
		Example: `  basket cluster info
  basket cluster info --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.adminRun(cmd, &out, func(ctx context.Context, adm *kadm.Client) error {
				md, err := adm.Metadata(ctx)
				if err != nil {
					return err
				}
				info := clusterInfo{ClusterID: md.Cluster, Controller: md.Controller, Brokers: []clusterBroker{}, Topics: []clusterTopic{}}
				for _, b := range md.Brokers {
					info.Brokers = append(info.Brokers, clusterBroker{b.NodeID, b.Host, b.Port, b.Rack})
				}
				for _, t := range md.Topics.Sorted() {
					info.Topics = append(info.Topics, clusterTopic{t.Topic, len(t.Partitions), t.Partitions.NumReplicas(), t.IsInternal})
				}
				w := cmd.OutOrStdout()
				return out.print(w, info, func() error { return printClusterInfo(w, info) })
			})
		},
	}
	addOutputFlag(cmd, &out)
	return cmd
}

func printClusterInfo(w io.Writer, info clusterInfo) error {
	t := newTable(w)
	t.row("CLUSTER-ID", dash(info.ClusterID))
	t.row("CONTROLLER", info.Controller)
	t.flush()
	fmt.Fprintln(w)
	t = newTable(w, "BROKER", "HOST", "PORT", "RACK")
	for _, b := range info.Brokers {
		rack := "-"
		if b.Rack != nil {
			rack = *b.Rack
		}
		t.row(b.NodeID, b.Host, b.Port, rack)
	}
	t.flush()
	fmt.Fprintln(w)
	t = newTable(w, "TOPIC", "PARTITIONS", "REPLICAS", "INTERNAL")
	for _, tp := range info.Topics {
		t.row(tp.Topic, tp.Partitions, tp.Replicas, tp.Internal)
	}
	return t.flush()
}
