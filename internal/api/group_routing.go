package api

// Routing of the group APIs to the coordinator shards. The first phase of
// a group handler submits its command(s) to the shard(s), so a
// connection's pipelined requests reach each coordinator in order; the
// Wait then blocks until the shard answers, which for JoinGroup and
// SyncGroup may take a whole rebalance.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/controller"
	"github.com/basketmq/basket/internal/coordinator/group"
)

// groupCommand is one request run against a coordinator.
type groupCommand = func(*group.Coordinator, group.Caller) group.Result

type clientKey struct{}

// clientInfo is who sent a request, as JoinGroup records it.
type clientInfo struct{ id, host string }

// WithClient returns ctx carrying the request's client id and the
// client's host ("/192.0.2.1", as Kafka shows it) for the group
// coordinator.
func WithClient(ctx context.Context, clientID, host string) context.Context {
	return context.WithValue(ctx, clientKey{}, clientInfo{clientID, host})
}

func callerFrom(ctx context.Context) group.Caller {
	ci, _ := ctx.Value(clientKey{}).(clientInfo)
	return group.Caller{ClientID: ci.id, ClientHost: ci.host}
}

// groupShard is the shard coordinating groupID.
func (h *Handlers) groupShard(groupID string) int32 {
	return group.PartitionFor(groupID, h.Groups.Partitions())
}

// submitGroup queues cmd on shard p. Without a runtime, or once it has
// closed, the command runs on a coordinator that has given its partition
// up, which answers NOT_COORDINATOR in the request's own shape.
func (h *Handlers) submitGroup(ctx context.Context, p int32, cmd groupCommand) (<-chan kmsg.Response, error) {
	from := callerFrom(ctx)
	if h.Groups == nil {
		u := group.New(clock.Real, group.DefaultConfig())
		u.Unload()
		ch := make(chan kmsg.Response, 1)
		ch <- cmd(u, from).Response
		return ch, nil
	}
	return h.Groups.Submit(ctx, p, from, cmd)
}

// coordinate serves a request of one group: cmd runs on the group's shard
// and the Wait returns its answer.
func (h *Handlers) coordinate(ctx context.Context, groupID string, cmd groupCommand) (kmsg.Response, Wait, error) {
	p := int32(0)
	if h.Groups != nil {
		p = h.groupShard(groupID)
	}
	ch, err := h.submitGroup(ctx, p, cmd)
	if err != nil {
		return nil, nil, err
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) { return awaitGroup(ctx, ch) }, nil
}

func awaitGroup(ctx context.Context, ch <-chan kmsg.Response) (kmsg.Response, error) {
	select {
	case resp := <-ch:
		return resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fanOut runs one group command per shard, built by cmdFor from the
// indexes of the items that shard owns (all of them, in order, when
// shardOf is nil: every shard gets every item). The Wait-side function
// returns the shards' answers.
func (h *Handlers) fanOut(ctx context.Context, n int, shardOf func(i int) int32, cmdFor func(items []int) groupCommand) (func(context.Context) ([]kmsg.Response, error), error) {
	shards := int32(0)
	if h.Groups != nil {
		shards = h.Groups.Partitions()
	}
	return fanOutShards(ctx, n, shards, shardOf, cmdFor, h.submitGroup)
}

// fanOutShards is the fan-out of the group and transaction coordinators:
// it splits n items over shards (all to shard 0 when there are no shards,
// which then answers for a missing coordinator), submits cmdFor of each
// shard's items in the order shards first appear, and returns a function
// that waits for every answer in that order.
func fanOutShards[C any](ctx context.Context, n int, shards int32, shardOf func(i int) int32, cmdFor func(items []int) C,
	submit func(context.Context, int32, C) (<-chan kmsg.Response, error)) (func(context.Context) ([]kmsg.Response, error), error) {
	byShard := map[int32][]int{}
	var order []int32
	switch {
	case shards == 0:
		for i := range n {
			byShard[0] = append(byShard[0], i)
		}
		order = []int32{0}
	case shardOf == nil:
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		for p := range shards {
			byShard[p] = all
			order = append(order, p)
		}
	default:
		for i := range n {
			p := shardOf(i)
			if _, ok := byShard[p]; !ok {
				order = append(order, p)
			}
			byShard[p] = append(byShard[p], i)
		}
	}
	chans := make([]<-chan kmsg.Response, 0, len(order))
	for _, p := range order {
		ch, err := submit(ctx, p, cmdFor(byShard[p]))
		if err != nil {
			return nil, err
		}
		chans = append(chans, ch)
	}
	return func(ctx context.Context) ([]kmsg.Response, error) {
		out := make([]kmsg.Response, 0, len(chans))
		for _, ch := range chans {
			resp, err := awaitGroup(ctx, ch)
			if err != nil {
				return nil, err
			}
			out = append(out, resp)
		}
		return out, nil
	}, nil
}

// consumerOffsetsTopic is the internal topic of the group coordinators.
const consumerOffsetsTopic = "__consumer_offsets"

// isInternal reports whether topic is one of the broker's own: Metadata
// marks it, and clients may not produce to it.
func isInternal(topic string) bool {
	return topic == consumerOffsetsTopic || topic == transactionStateTopic
}

// createOffsetsTopic creates __consumer_offsets with the group
// coordinators' partition count, cleanup.policy=compact and
// segment.bytes=offsets.topic.segment.bytes, as Kafka creates it for the
// first group that needs a coordinator. It reports
// whether the topic exists now.
func (h *Handlers) createOffsetsTopic(ctx context.Context) bool {
	if _, ok := h.Image().Topic(consumerOffsetsTopic); ok {
		return true
	}
	if h.Groups == nil {
		return false
	}
	compact := "compact"
	configs := map[string]*string{"cleanup.policy": &compact}
	if h.OffsetsTopicSegmentBytes > 0 {
		segment := itoa(h.OffsetsTopicSegmentBytes)
		configs["segment.bytes"] = &segment
	}
	errs := h.Admin.CreateTopics(ctx, []controller.CreateTopic{{
		Name: consumerOffsetsTopic, Partitions: h.Groups.Partitions(), ReplicationFactor: -1,
		Configs: configs,
	}}, false)
	if errs[0] != nil && errs[0].Code != kerr.TopicAlreadyExists {
		h.Logger.Error("creating "+consumerOffsetsTopic, "err", errs[0])
		return false
	}
	_, ok := h.Image().Topic(consumerOffsetsTopic)
	return ok
}

// fanOutGroups serves a request batched over groups (DescribeGroups,
// DeleteGroups, OffsetFetch v8+): each group goes to its shard, command
// builds the shard's sub-request from its share of the groups, and the
// groups of the shards' answers are put back in request order for respond.
func fanOutGroups[G, A any](h *Handlers, ctx context.Context, groups []G, groupID func(G) string,
	command func(sub []G) groupCommand, answered func(kmsg.Response) []A, answerID func(A) string,
	respond func([]A) kmsg.Response) (kmsg.Response, Wait, error) {
	collect, err := h.fanOut(ctx, len(groups),
		func(i int) int32 { return h.groupShard(groupID(groups[i])) },
		func(items []int) groupCommand {
			sub := make([]G, 0, len(items))
			for _, i := range items {
				sub = append(sub, groups[i])
			}
			return command(sub)
		})
	if err != nil {
		return nil, nil, err
	}
	return nil, func(ctx context.Context) (kmsg.Response, error) {
		answers, err := collect(ctx)
		if err != nil {
			return nil, err
		}
		byID := map[string]A{}
		for _, a := range answers {
			for _, g := range answered(a) {
				byID[answerID(g)] = g
			}
		}
		ordered := make([]A, 0, len(groups))
		for _, g := range groups {
			ordered = append(ordered, byID[groupID(g)])
		}
		return respond(ordered), nil
	}, nil
}
