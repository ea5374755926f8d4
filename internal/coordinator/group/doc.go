// Package group is the consumer group coordinator — classic groups
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), KIP-848 consumer groups
// (ConsumerGroupHeartbeat, ConsumerGroupDescribe) and what both share
// (OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups,
// OffsetDelete), plus transactional offsets (TxnOffsetCommit, KIP-98 and
// KIP-447) and the transaction markers that commit or drop them — as a
// deterministic state machine: Kafka's GroupMetadataManager and
// OffsetMetadataManager for one __consumer_offsets partition. It does no
// I/O, starts no goroutines and reads the time only from an injected
// clock.Clock.
//
// # Commands, records, replies
//
// Each API is a method taking the decoded kmsg request and returning a
// Result: the Records to append to the partition, the Response to the
// request, and Replies to earlier requests. JoinGroup and SyncGroup are
// usually answered later: a JoinGroup waits for the join phase of the
// rebalance to end, a follower's SyncGroup for the leader's assignment.
// Their Result then has a nil Response, and the answer comes in the
// Replies of a later Result (of another member's request, or of Tick),
// tagged with the Caller.Ref the request came with. Every parked request
// is answered exactly once: when superseded by a retry it is answered
// REBALANCE_IN_PROGRESS, and Unload answers all that remain.
//
// Timers (session timeouts, rebalance and sync timeouts, the initial
// rebalance delay, the offsets retention check) are deadlines in a heap;
// nothing fires by itself. The owner calls Tick after the clock passes
// NextDeadline, and Tick runs what is due.
//
// # The owner's contract
//
// One goroutine owns a Coordinator and makes every call; it is not safe
// for concurrent use. For each Result, in order, the owner:
//
//  1. appends Records to the __consumer_offsets partition and waits until
//     they are durable (written and, with replication, committed);
//  2. only then sends Response and Replies to their connections.
//
// So an acknowledged commit, assignment or static-member replacement is
// durable. A Result's records may be written together with later ones
// (group commit) as long as no response leaves before everything up to
// it is durable. If a write fails, the coordinator's state is ahead of the
// log: the owner must answer that Result's requests with an error (e.g.
// NOT_COORDINATOR), Unload the coordinator and load a new one from the
// log, as Kafka reverts to its last committed state.
//
// Routing, NOT_COORDINATOR for groups of other partitions, and
// authorization are the owner's; PartitionFor places a group as Kafka
// does.
//
// # Loading
//
// New returns a loading coordinator, which answers every request
// COORDINATOR_LOAD_IN_PROGRESS. The owner passes each record of the
// partition, oldest first, to Replay, then calls Loaded; loaded members
// get a fresh session. Unload answers parked requests NOT_COORDINATOR and
// every later request too.
//
// # What is persisted, what is in memory
//
// The records are Kafka's own (kmsg types), so a Kafka broker can load
// this partition and Basket can load Kafka's:
//
//   - GroupMetadataKey (key version 2) / GroupMetadataValue v3: protocol
//     type, generation, protocol, leader, the time of the last state
//     change, and per member its id, group.instance.id, client id and
//     host, timeouts, subscription (its metadata for the group protocol)
//     and assignment. A tombstone deletes the group.
//   - OffsetCommitKey (key version 1) / OffsetCommitValue v3 (v1 when the
//     commit has its own expire timestamp): offset, leader epoch,
//     metadata, commit time. A tombstone deletes the offset.
//
// Offsets of TxnOffsetCommit are written as a transactional batch of the
// producer (Result.Txn) and stay pending, per producer id, until a COMMIT
// or ABORT marker of that producer (WriteTxnMarker, written as a control
// batch) commits or drops them; loading rebuilds them from the batches
// (ReplayTxnOffset, ReplayTxnMarker). OffsetFetch with require_stable
// answers UNSTABLE_OFFSET_COMMIT for a partition with offsets pending.
//
// Everything persisted changes only by replaying a record: the
// coordinator applies each record it writes through the same code as
// Replay, at once. A group enters Empty and Stable only that way, so in
// those states it is exactly what its last record says. Kept only in
// memory, as in Kafka: the state during a rebalance (PreparingRebalance,
// CompletingRebalance) with the membership, generation, protocol and
// leader it is working towards, which run ahead of the last record until
// the leader's SyncGroup writes the next one; parked requests; members'
// full protocol lists (a loaded member supports just the group
// protocol); KIP-394 pending member ids; members yet to sync; and every
// timer. After a crash mid-rebalance the group reloads at its previous
// generation and its members rejoin.
//
// # Kafka behaviour kept
//
// Protocol selection by vote among the protocols every member supports
// (ties: first voted for in join order); INCONSISTENT_GROUP_PROTOCOL;
// INVALID_SESSION_TIMEOUT; KIP-394 MEMBER_ID_REQUIRED for v4+ joins
// without a member id, with pending ids expiring after the session
// timeout and capped per group (Config.MaxPendingMembers, KAFKA-7610);
// group.max.size; KIP-345 static members (a restart with an unchanged
// protocol keeps the generation and assignment, FENCED_INSTANCE_ID for a
// stale member id, KIP-814 SkipAssignment for a returning leader on v9);
// the initial rebalance delay; rebalance and sync timeouts removing slow
// members; v7+ protocol type and name in answers (KIP-559); commits from
// outside any generation on Empty groups; KIP-211 offset retention.
//
// # KIP-848 consumer groups
//
// A group id is either a classic group or a consumer group. A consumer
// group has a group epoch, bumped when a member joins or leaves or the
// subscribed topics' metadata changes; a target assignment computed by a
// server-side assignor (uniform, range) for an assignment epoch; and per
// member a member epoch and a current assignment that moves towards the
// member's target one heartbeat at a time (consumer_reconcile.go): a
// member first revokes what it must give up, and a partition goes to its
// new owner only once no other member owns it, so there is no
// stop-the-world rebalance. Topic metadata comes in as a TopicImage with
// each ConsumerGroupHeartbeat; nothing is read from outside. Members
// subscribe by topic names or by an RE2 regex matching whole names. The
// state is Kafka 4.0's records (types 3 to 8, consumer_record*.go) and,
// as for classic groups, changes only when a record is replayed. Timers:
// a member's session (group.consumer.session.timeout.ms) and, while it
// revokes partitions, its rebalance timeout; either fences the member.
// Static members (instance id) leaving with epoch -2 keep their
// partitions until they return under a new member id or their session
// ends. Members commit and fetch offsets with their member epoch
// (STALE_MEMBER_EPOCH otherwise). Groups are not converted between the
// protocols while they have members (Kafka's
// group.consumer.migration.policy); an empty group of one type gives way
// to the other.
package group
