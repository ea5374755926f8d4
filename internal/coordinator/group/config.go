package group

import (
	"io"
	"math"
	"time"
)

// Config holds the broker settings the coordinator obeys, under Kafka's
// names. Start from DefaultConfig and override fields; New uses the values
// as given.
type Config struct {
	// MinSessionTimeout and MaxSessionTimeout bound a JoinGroup's session
	// timeout (group.min.session.timeout.ms, group.max.session.timeout.ms);
	// outside them the join fails with INVALID_SESSION_TIMEOUT.
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// InitialRebalanceDelay (group.initial.rebalance.delay.ms) holds the
	// first rebalance of an empty group open for more members, extended
	// while members keep arriving, up to the rebalance timeout.
	InitialRebalanceDelay time.Duration
	// MaxSize (group.max.size) caps the members of a group;
	// GROUP_MAX_SIZE_REACHED beyond it.
	MaxSize int32
	// OffsetsRetention (offsets.retention.minutes): an empty group's
	// committed offsets expire this long after it became empty; a
	// standalone (assign-mode) group's, this long after their commit.
	OffsetsRetention time.Duration
	// OffsetsRetentionCheckInterval (offsets.retention.check.interval.ms)
	// is how often expired offsets are looked for.
	OffsetsRetentionCheckInterval time.Duration
	// OffsetMetadataMaxBytes (offset.metadata.max.bytes): a longer commit
	// metadata string gets OFFSET_METADATA_TOO_LARGE.
	OffsetMetadataMaxBytes int
	// NewMemberJoinTimeout is how long a new member's parked JoinGroup
	// may wait for the rebalance before the member is dropped (Kafka's
	// fixed 5 minutes): a client that gave up and retried must not leave
	// a defunct member behind.
	NewMemberJoinTimeout time.Duration
	// MaxPendingMembers caps, per group, the member ids handed out with
	// MEMBER_ID_REQUIRED (KIP-394) and not yet used to join. Beyond it the
	// oldest is forgotten, so a flood of JoinGroups with empty member ids
	// cannot grow memory without bound (KAFKA-7610). Basket's own knob;
	// Kafka bounds these only by their session timeout.
	MaxPendingMembers int
	// Rand is the source of member ids; nil means crypto/rand.
	Rand io.Reader

	// KIP-848 consumer groups (ConsumerGroupHeartbeat).

	// ConsumerSessionTimeout (group.consumer.session.timeout.ms): a
	// member that has not heartbeaten for this long is fenced.
	ConsumerSessionTimeout time.Duration
	// ConsumerHeartbeatInterval (group.consumer.heartbeat.interval.ms)
	// is the heartbeat interval told to members.
	ConsumerHeartbeatInterval time.Duration
	// ConsumerMaxSize (group.consumer.max.size) caps the members of a
	// consumer group; GROUP_MAX_SIZE_REACHED beyond it.
	ConsumerMaxSize int32
	// ConsumerAssignors (group.consumer.assignors) are the server-side
	// assignors members may name, "uniform" and/or "range"; the first is
	// the default.
	ConsumerAssignors []string
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		MinSessionTimeout:             6 * time.Second,
		MaxSessionTimeout:             30 * time.Minute,
		InitialRebalanceDelay:         3 * time.Second,
		MaxSize:                       math.MaxInt32,
		OffsetsRetention:              7 * 24 * time.Hour,
		OffsetsRetentionCheckInterval: 10 * time.Minute,
		OffsetMetadataMaxBytes:        4096,
		NewMemberJoinTimeout:          5 * time.Minute,
		MaxPendingMembers:             10000,
		ConsumerSessionTimeout:        45 * time.Second,
		ConsumerHeartbeatInterval:     5 * time.Second,
		ConsumerMaxSize:               math.MaxInt32,
		ConsumerAssignors:             []string{assignorUniform, assignorRange},
	}
}
