package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// configCommand is `basket config`, like kafka-configs.sh for brokers and
// topics.
func configCommand() *cobra.Command {
	return withConnCommands(&cobra.Command{
		Use:     "config",
		Aliases: []string{"configs"},
		Short:   "Describe and alter broker and topic configs",
		Example: `  basket config describe --broker 1
  basket config alter --topic orders --set retention.ms=3600000`,
	}, configDescribeCommand, configAlterCommand)
}

// entity is --broker ID or --topic NAME.
type entity struct {
	broker int32
	topic  string
}

func addEntityFlags(cmd *cobra.Command, e *entity) {
	cmd.Flags().Int32Var(&e.broker, "broker", -1, "broker id")
	cmd.Flags().StringVar(&e.topic, "topic", "", "topic name")
}

func (e *entity) check() error {
	switch {
	case e.broker >= 0 && e.topic != "":
		return errors.New("give --broker or --topic, not both")
	case e.broker < 0 && e.topic == "":
		return errors.New("give --broker ID or --topic NAME")
	}
	return nil
}

func (e *entity) String() string {
	if e.topic != "" {
		return fmt.Sprintf("topic %s", e.topic)
	}
	return fmt.Sprintf("broker %d", e.broker)
}

func describeEntityConfigs(ctx context.Context, adm *kadm.Client, e entity) ([]kadm.Config, error) {
	var rcs kadm.ResourceConfigs
	var err error
	name := e.topic
	if e.topic != "" {
		if _, err := requireTopics(ctx, adm, e.topic); err != nil {
			return nil, err
		}
		rcs, err = adm.DescribeTopicConfigs(ctx, e.topic)
	} else {
		name = strconv.Itoa(int(e.broker))
		if err := requireBroker(ctx, adm, e.broker); err != nil {
			return nil, err
		}
		rcs, err = adm.DescribeBrokerConfigs(ctx, e.broker)
	}
	if err != nil {
		return nil, brokerErr(e, err)
	}
	rc, err := rcs.On(name, nil)
	if err != nil {
		return nil, brokerErr(e, err)
	}
	if rc.Err != nil {
		if e.topic != "" {
			return nil, topicErr(e.topic, rc.Err, rc.ErrMessage)
		}
		return nil, fmt.Errorf("%s: %w", e.String(), kafkaErr(rc.Err, rc.ErrMessage))
	}
	return rc.Configs, nil
}

// brokerErr words a request error for a broker entity.
func brokerErr(e entity, err error) error {
	if e.topic == "" {
		return fmt.Errorf("broker %d: %w", e.broker, kafkaErr(err, ""))
	}
	return err
}

// requireBroker fails with `broker N does not exist` unless the cluster
// metadata lists broker id.
func requireBroker(ctx context.Context, adm *kadm.Client, id int32) error {
	bs, err := adm.ListBrokers(ctx)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.NodeID == id {
			return nil
		}
	}
	return fmt.Errorf("broker %d does not exist", id)
}

func configDescribeCommand(c *conn) *cobra.Command {
	var (
		e          entity
		nonDefault bool
		out        output
	)
	cmd := &cobra.Command{
		Use:   "describe (--broker ID | --topic NAME)",
		Short: "Show the configs of a broker or a topic, with where each value comes from",
		Long: `Show every config of a broker or topic with its value and source:
DYNAMIC_TOPIC_CONFIG (set on the topic), DYNAMIC_BROKER_CONFIG (set on the
broker at runtime), STATIC_BROKER_CONFIG (server.properties or --override) or
DEFAULT_CONFIG. --non-default hides the defaults.`,
		Example: `  basket config describe --topic orders
  basket config describe --broker 1 --non-default
  basket config describe --topic orders --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := e.check(); err != nil {
				return err
			}
			return c.adminRun(cmd, &out, func(ctx context.Context, adm *kadm.Client) error {
				cs, err := describeEntityConfigs(ctx, adm, e)
				if err != nil {
					return err
				}
				rows := configRows(cs, nonDefault)
				w := cmd.OutOrStdout()
				return out.print(w, rows, func() error {
					t := newTable(w, "CONFIG", "VALUE", "SOURCE")
					for _, r := range rows {
						t.row(r.Key, configValue(r), r.Source)
					}
					return t.flush()
				})
			})
		},
	}
	addEntityFlags(cmd, &e)
	cmd.Flags().BoolVar(&nonDefault, "non-default", false, "show only configs not at their default")
	addOutputFlag(cmd, &out)
	return cmd
}

func configAlterCommand(c *conn) *cobra.Command {
	var (
		e entity
		f alterFlags
	)
	cmd := &cobra.Command{
		Use:   "alter (--broker ID | --topic NAME) --set key=value --delete key",
		Short: "Set or remove configs of a broker or a topic",
		Long: `Change configs with IncrementalAlterConfigs: --set gives a key a value,
--delete returns it to its default; other configs are untouched. Broker configs
set this way are dynamic and persist in the cluster metadata.`,
		Example: `  basket config alter --topic orders --set retention.ms=3600000 --set segment.bytes=104857600
  basket config alter --topic orders --delete retention.ms
  basket config alter --broker 1 --set log.retention.ms=604800000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := e.check(); err != nil {
				return err
			}
			ops, err := f.ops()
			if err != nil {
				return err
			}
			return c.adminRun(cmd, nil, func(ctx context.Context, adm *kadm.Client) error {
				var err error
				if e.topic != "" {
					err = alterTopicConfigs(ctx, adm, e.topic, ops)
				} else {
					err = alterBrokerConfigs(ctx, adm, e.broker, ops)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "altered configs of %s\n", e.String())
				return nil
			})
		},
	}
	addEntityFlags(cmd, &e)
	addAlterFlags(cmd, &f)
	return cmd
}

func alterBrokerConfigs(ctx context.Context, adm *kadm.Client, broker int32, ops []kadm.AlterConfig) error {
	e := entity{broker: broker}
	if err := requireBroker(ctx, adm, broker); err != nil {
		return err
	}
	resp, err := adm.AlterBrokerConfigs(ctx, ops, broker)
	if err != nil {
		return brokerErr(e, err)
	}
	r, err := resp.On(strconv.Itoa(int(broker)), nil)
	if err != nil {
		return brokerErr(e, err)
	}
	if r.Err != nil {
		return fmt.Errorf("broker %d: %w", broker, kafkaErr(r.Err, r.ErrMessage))
	}
	return nil
}
