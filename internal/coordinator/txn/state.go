package txn

import "strings"

// State is a transaction's state, numbered as in Kafka's
// __transaction_state records and named as DescribeTransactions and
// ListTransactions report it.
type State int8

const (
	// Empty: the producer is initialised; no transaction is open.
	Empty State = iota
	// Ongoing: a transaction is open; partitions have been added to it.
	Ongoing
	// PrepareCommit: EndTxn(commit) is durable; markers are being written.
	PrepareCommit
	// PrepareAbort: the transaction is aborting (EndTxn(abort), a timeout
	// or a new producer fencing the old); markers are being written.
	PrepareAbort
	// CompleteCommit: every COMMIT marker is written.
	CompleteCommit
	// CompleteAbort: every ABORT marker is written.
	CompleteAbort
	// Dead: the transactional id expired; only ever on its way to a
	// tombstone.
	Dead
	// PrepareEpochFence: Kafka's transient state while a new producer
	// fences an open transaction. Basket goes straight to PrepareAbort
	// with the bumped epoch, so no transaction rests here; it is named for
	// completeness of the state filter.
	PrepareEpochFence
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "Unknown"
	}
	return stateNames[s]
}

// ParseState returns the state named s (case-insensitive), as the
// ListTransactions state filter names it.
func ParseState(s string) (State, bool) {
	for i, n := range stateNames {
		if strings.EqualFold(n, s) {
			return State(i), true
		}
	}
	return 0, false
}

// completed reports whether no transaction is in progress: a new one may
// start and the producer may be re-initialised.
func (s State) completed() bool {
	return s == Empty || s == CompleteCommit || s == CompleteAbort
}

func (s State) preparing() bool { return s == PrepareCommit || s == PrepareAbort }
