package api

import (
	"github.com/basketmq/basket/internal/coordinator/group"
	"github.com/basketmq/basket/internal/metadata"
)

// topicImage shows a metadata image to the KIP-848 group coordinator
// (group.TopicImage). The image is immutable, so the coordinator's shard
// goroutine may read it while this request's goroutine moves on.
type topicImage struct{ im *metadata.Image }

var _ group.TopicImage = topicImage{}

func (t topicImage) Topic(name string) ([16]byte, int32, bool) {
	tp, ok := t.im.Topic(name)
	if !ok {
		return [16]byte{}, 0, false
	}
	return tp.ID, int32(len(tp.Partitions)), true
}

func (t topicImage) TopicName(id [16]byte) (string, bool) {
	tp, ok := t.im.TopicByID(id)
	if !ok {
		return "", false
	}
	return tp.Name, true
}

func (t topicImage) TopicNames() []string {
	ts := t.im.Topics()
	names := make([]string, len(ts))
	for i, tp := range ts {
		names[i] = tp.Name
	}
	return names
}

func (t topicImage) Version() int64 { return t.im.Offset }
