package group

import "unicode/utf16"

// PartitionFor is the __consumer_offsets partition whose coordinator owns
// groupID, among partitions (offsets.topic.num.partitions): Kafka's
// abs(groupId.hashCode()) % partitions, with Java's String.hashCode over
// UTF-16, so a group lands where Kafka would put it.
func PartitionFor(groupID string, partitions int32) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(groupID)) {
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
