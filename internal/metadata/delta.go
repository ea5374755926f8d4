package metadata

import (
	"fmt"
	"maps"
	"slices"
)

// Delta builds the next Image from a base by replaying records. It copies
// each map and topic of the base at most once, however many records touch
// it, so replaying n records costs O(n) and not O(n × topics). A Delta is
// for one goroutine; the Image it returns is immutable.
type Delta struct {
	next        *Image
	ownMaps     bool
	ownTopics   map[*Topic]bool // topics this delta copied and may modify
	ownBrokerCf bool
}

// NewDelta starts a delta on base.
func NewDelta(base *Image) *Delta {
	next := *base
	return &Delta{next: &next, ownTopics: map[*Topic]bool{}}
}

// Image returns the image with every replayed record. The delta must not be
// used afterwards.
func (d *Delta) Image() *Image { return d.next }

// Replay applies r, written at metadata log offset offset. It rejects
// records that do not fit (a partition of an unknown topic, a duplicate
// topic), so a corrupt log cannot build an inconsistent image; on error the
// delta is unchanged.
func (d *Delta) Replay(r Record, offset int64) error {
	im := d.next
	switch {
	case r.Topic != nil:
		if _, ok := im.topics[r.Topic.Name]; ok {
			return fmt.Errorf("topic %q already exists", r.Topic.Name)
		}
		if _, ok := im.topicIDs[r.Topic.ID]; ok || r.Topic.ID.IsZero() {
			return fmt.Errorf("topic id %s is zero or taken", r.Topic.ID)
		}
		t := &Topic{Name: r.Topic.Name, ID: r.Topic.ID}
		d.ownTopics[t] = true
		d.put(t)
	case r.Partition != nil:
		p := r.Partition
		t, ok := im.topicIDs[p.TopicID]
		if !ok {
			return fmt.Errorf("partition of unknown topic id %s", p.TopicID)
		}
		if p.Partition < 0 || int(p.Partition) > len(t.Partitions) {
			return fmt.Errorf("partition %d of %q out of sequence (has %d)", p.Partition, t.Name, len(t.Partitions))
		}
		part := Partition{Partition: p.Partition, Replicas: p.Replicas, ISR: p.ISR, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch}
		t = d.own(t)
		if int(p.Partition) == len(t.Partitions) {
			t.Partitions = append(t.Partitions, part)
		} else {
			t.Partitions[p.Partition] = part
		}
	case r.Config != nil:
		c := r.Config
		switch c.ResourceType {
		case ResourceTopic:
			t, ok := im.topics[c.ResourceName]
			if !ok {
				return fmt.Errorf("config of unknown topic %q", c.ResourceName)
			}
			t = d.own(t)
			setConfig(&t.Configs, c.Name, c.Value)
		case ResourceBroker:
			if !d.ownBrokerCf {
				im.brokerConfigs = maps.Clone(im.brokerConfigs)
				if im.brokerConfigs == nil {
					im.brokerConfigs = map[string]map[string]string{}
				}
				d.ownBrokerCf = true
			}
			m := maps.Clone(im.brokerConfigs[c.ResourceName])
			setConfig(&m, c.Name, c.Value)
			im.brokerConfigs[c.ResourceName] = m
		default:
			return fmt.Errorf("config of unknown resource type %d", c.ResourceType)
		}
	case r.RemoveTopic != nil:
		t, ok := im.topicIDs[r.RemoveTopic.ID]
		if !ok {
			return fmt.Errorf("removing unknown topic id %s", r.RemoveTopic.ID)
		}
		d.ownMapsOnce()
		delete(im.topics, t.Name)
		delete(im.topicIDs, t.ID)
	case r.ProducerIDs != nil:
		if r.ProducerIDs.NextProducerID <= im.NextProducerID {
			return fmt.Errorf("producer id block going backwards: %d after %d", r.ProducerIDs.NextProducerID, im.NextProducerID)
		}
		im.NextProducerID = r.ProducerIDs.NextProducerID
	default:
		return fmt.Errorf("empty metadata record")
	}
	im.Offset = offset
	return nil
}

func (d *Delta) ownMapsOnce() {
	if d.ownMaps {
		return
	}
	d.next.topics, d.next.topicIDs = maps.Clone(d.next.topics), maps.Clone(d.next.topicIDs)
	if d.next.topics == nil {
		d.next.topics, d.next.topicIDs = map[string]*Topic{}, map[UUID]*Topic{}
	}
	d.ownMaps = true
}

func (d *Delta) put(t *Topic) {
	d.ownMapsOnce()
	d.next.topics[t.Name] = t
	d.next.topicIDs[t.ID] = t
}

// own returns a copy of t this delta may modify, installing it.
func (d *Delta) own(t *Topic) *Topic {
	if d.ownTopics[t] {
		return t
	}
	c := &Topic{Name: t.Name, ID: t.ID, Partitions: slices.Clone(t.Partitions), Configs: maps.Clone(t.Configs)}
	d.ownTopics[c] = true
	d.put(c)
	return c
}

func setConfig(m *map[string]string, name string, value *string) {
	if *m == nil {
		*m = map[string]string{}
	}
	if value == nil {
		delete(*m, name)
	} else {
		(*m)[name] = *value
	}
}
