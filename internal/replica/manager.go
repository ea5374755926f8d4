package replica

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/metadata"
	"github.com/basketmq/basket/internal/partition"
)

// Manager owns the broker's partitions.
type Manager struct {
	dir       *log.Dir
	nodeID    int32
	durable   bool
	configFor func(*metadata.Topic) log.Config
	logger    *slog.Logger

	mu    sync.RWMutex
	parts map[log.TopicPartition]*hosted
}

type hosted struct {
	p       *partition.Partition
	topicID metadata.UUID
}

// NewManager serves the partitions of log directory dir that the metadata
// assigns to nodeID. configFor gives a topic's effective log configuration.
func NewManager(dir *log.Dir, nodeID int32, durable bool, configFor func(*metadata.Topic) log.Config, logger *slog.Logger) *Manager {
	return &Manager{dir: dir, nodeID: nodeID, durable: durable, configFor: configFor, logger: logger, parts: map[log.TopicPartition]*hosted{}}
}

// Partition returns a hosted partition.
func (m *Manager) Partition(topic string, p int32) (*partition.Partition, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	h, ok := m.parts[log.TopicPartition{Topic: topic, Partition: p}]
	if !ok {
		return nil, false
	}
	return h.p, true
}

// Apply makes the hosted partitions match im: logs for new partitions
// (reusing a log found on disk at startup), new configs for existing ones,
// deletion for partitions no longer in the image. Logs on disk that the
// image does not know are deleted: their topic was deleted while the broker
// was down.
func (m *Manager) Apply(im *metadata.Image) error {
	var errs []error
	want := map[log.TopicPartition]bool{}
	for _, t := range im.Topics() {
		cfg := m.configFor(t)
		for _, p := range t.Partitions {
			if !contains(p.Replicas, m.nodeID) {
				continue
			}
			tp := log.TopicPartition{Topic: t.Name, Partition: p.Partition}
			want[tp] = true
			if err := m.ensure(tp, t.ID, p.LeaderEpoch, cfg); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, l := range m.dir.Logs() {
		tp := l.TopicPartition()
		if want[tp] {
			continue
		}
		m.mu.Lock()
		delete(m.parts, tp)
		m.mu.Unlock()
		if err := m.dir.DeleteLog(tp); err != nil {
			errs = append(errs, fmt.Errorf("deleting %s: %w", tp, err))
		} else {
			m.logger.Info("deleted partition", "partition", tp.String())
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) ensure(tp log.TopicPartition, id metadata.UUID, epoch int32, cfg log.Config) error {
	m.mu.RLock()
	h, ok := m.parts[tp]
	m.mu.RUnlock()
	if ok && h.topicID == id {
		return h.p.Log().SetConfig(cfg)
	}
	if ok { // same name, new topic: the old one was deleted and recreated
		m.mu.Lock()
		delete(m.parts, tp)
		m.mu.Unlock()
		if err := m.dir.DeleteLog(tp); err != nil {
			return fmt.Errorf("replacing %s: %w", tp, err)
		}
	}
	l, found := m.dir.Log(tp)
	if found {
		recorded, ok, err := readPartitionMetadata(l)
		if err != nil {
			return err
		}
		if ok && recorded != id { // an older topic of the same name
			m.logger.Info("deleting the log of a previous topic with the same name", "partition", tp.String(), "old_id", recorded.String())
			if err := m.dir.DeleteLog(tp); err != nil {
				return err
			}
			found = false
		} else if err := l.SetConfig(cfg); err != nil {
			return err
		}
	}
	if !found {
		var err error
		if l, err = m.dir.CreateLog(tp, cfg); err != nil {
			return fmt.Errorf("creating %s: %w", tp, err)
		}
	}
	if err := writePartitionMetadata(l, id); err != nil {
		return err
	}
	p, err := partition.Open(l, epoch, m.durable)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.parts[tp] = &hosted{p: p, topicID: id}
	m.mu.Unlock()
	return nil
}

// Maintain runs each partition's periodic upkeep (producer expiry and
// state snapshots).
func (m *Manager) Maintain(now, producerExpirationMs int64) {
	m.mu.RLock()
	parts := make([]*partition.Partition, 0, len(m.parts))
	for _, h := range m.parts {
		parts = append(parts, h.p)
	}
	m.mu.RUnlock()
	for _, p := range parts {
		if err := p.Maintain(now, producerExpirationMs); err != nil {
			m.logger.Error("partition upkeep", "err", err)
		}
	}
}

// Close snapshots every partition's producer state; call it before closing
// the log directory.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, h := range m.parts {
		errs = append(errs, h.p.Close())
	}
	return errors.Join(errs...)
}

func contains(xs []int32, x int32) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
