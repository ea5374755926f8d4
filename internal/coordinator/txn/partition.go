package txn

import "unicode/utf16"

// Topic is the internal topic holding the transactions' state.
const Topic = "__transaction_state"

// PartitionFor is the __transaction_state partition whose coordinator
// owns transactionalID, among partitions
// (transaction.state.log.num.partitions): Kafka's
// abs(transactionalId.hashCode()) % partitions with Java's String.hashCode
// over UTF-16, so an id lands where Kafka would put it.
func PartitionFor(transactionalID string, partitions int32) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(transactionalID)) {
		h = 31*h + int32(u)
	}
	if h < 0 {
		h = -h // MinInt32 stays MinInt32, which Kafka maps to 0
		if h < 0 {
			h = 0
		}
	}
	return h % partitions
}
