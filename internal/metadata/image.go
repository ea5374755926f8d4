package metadata

import (
	"maps"
	"slices"
)

// Image is an immutable view of the cluster metadata. The zero value is an
// empty image. Never modify an Image or anything reachable from it.
type Image struct {
	topics   map[string]*Topic
	topicIDs map[UUID]*Topic
	// configs of brokers, by broker id text ("" = cluster-wide default).
	brokerConfigs map[string]map[string]string
	// NextProducerID is the first producer id no block has reserved.
	NextProducerID int64
	// Offset is the metadata log offset of the last record applied, -1 for
	// none.
	Offset int64
}

// Topic is one topic in an Image.
type Topic struct {
	Name       string
	ID         UUID
	Partitions []Partition // index = partition number
	Configs    map[string]string
}

// Partition is one partition of a topic in an Image.
type Partition struct {
	Partition   int32
	Replicas    []int32
	ISR         []int32
	Leader      int32
	LeaderEpoch int32
}

// Empty is the image before any record.
func Empty() *Image { return &Image{Offset: -1} }

// Topic returns a topic by name.
func (im *Image) Topic(name string) (*Topic, bool) {
	t, ok := im.topics[name]
	return t, ok
}

// TopicByID returns a topic by id.
func (im *Image) TopicByID(id UUID) (*Topic, bool) {
	t, ok := im.topicIDs[id]
	return t, ok
}

// Topics returns every topic sorted by name.
func (im *Image) Topics() []*Topic {
	out := slices.Collect(maps.Values(im.topics))
	slices.SortFunc(out, func(a, b *Topic) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// BrokerConfigs returns the dynamic configs of a broker ("" for the cluster
// default); the map must not be modified.
func (im *Image) BrokerConfigs(broker string) map[string]string { return im.brokerConfigs[broker] }

// Apply returns the image after one record; see Delta for many.
func (im *Image) Apply(r Record, offset int64) (*Image, error) {
	d := NewDelta(im)
	if err := d.Replay(r, offset); err != nil {
		return nil, err
	}
	return d.Image(), nil
}
