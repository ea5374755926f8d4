package group

// State is a classic group's state, named as Kafka names it in
// DescribeGroups and ListGroups.
type State int8

const (
	// Empty: no members; the group may still hold committed offsets.
	Empty State = iota
	// PreparingRebalance: waiting for members to (re)join.
	PreparingRebalance
	// CompletingRebalance: joins answered; waiting for the leader's
	// assignment in SyncGroup.
	CompletingRebalance
	// Stable: every member has its assignment for the current generation.
	Stable
	// Dead: the group does not exist (never stored; reported for unknown
	// groups).
	Dead
)

var stateNames = [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "Unknown"
	}
	return stateNames[s]
}

// canRebalance reports whether a group in s may move to
// PreparingRebalance.
func (s State) canRebalance() bool {
	return s == Stable || s == CompletingRebalance || s == Empty
}
