package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/basketmq/basket/internal/api"
	"github.com/basketmq/basket/internal/config"
	"github.com/basketmq/basket/internal/controller"
	"github.com/basketmq/basket/internal/coordinator/group"
	"github.com/basketmq/basket/internal/coordinator/runtime"
	"github.com/basketmq/basket/internal/coordinator/txn"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/log/cleaner"
	"github.com/basketmq/basket/internal/metadata"
	"github.com/basketmq/basket/internal/producerstate"
	"github.com/basketmq/basket/internal/replica"
	"github.com/basketmq/basket/internal/wire"
)

// Config is what Start needs; package config resolves it from
// server.properties and flags.
type Config struct {
	DataDir   string
	Listen    string // host:port; port 0 picks a free one
	Advertise string // host:port clients should use; default: the listen address
	NodeID    int32

	Durability       log.Durability
	AutoCreateTopics bool
	NumPartitions    int32
	MaxRequestBytes  int32 // socket.request.max.bytes
	RecoveryThreads  int
	// RetentionCheckInterval (log.retention.check.interval.ms) and
	// CheckpointInterval (log.flush.offset.checkpoint.interval.ms); zero
	// takes the log package's defaults (5 minutes, 60 seconds).
	RetentionCheckInterval time.Duration
	CheckpointInterval     time.Duration
	// PageCacheRetainBytes (basket.log.page.cache.retain.bytes): see
	// log.Options.PageCacheRetainBytes; zero takes its default.
	PageCacheRetainBytes int64
	TopicLogConfig       func(*metadata.Topic) log.Config
	MaxMessageBytes      func(*metadata.Topic) int32
	ValidateTopicCfgs    func(map[string]*string) error
	// BrokerConfig is the static broker configuration, reported by
	// DescribeConfigs and the base that dynamic broker configs (AlterConfigs
	// on a broker) layer on; nil means the defaults.
	BrokerConfig *config.Broker
	// OnBrokerConfig, if set, receives BrokerConfig with the dynamic broker
	// configs of the metadata layered on: at startup and after each commit
	// that changes them, before the logs take the new topic defaults.
	OnBrokerConfig func(*config.Broker)
	// OffsetsTopicPartitions is offsets.topic.num.partitions, used when
	// __consumer_offsets is created (on the first FindCoordinator for a
	// group, as Kafka does); 0 means Kafka's 50. An existing topic keeps
	// its partitions.
	OffsetsTopicPartitions int32
	// OffsetsTopicSegmentBytes is offsets.topic.segment.bytes, the
	// segment.bytes __consumer_offsets is created with; 0 leaves the
	// topic default.
	OffsetsTopicSegmentBytes int32
	// Group configures the group coordinators; nil means
	// group.DefaultConfig().
	Group *group.Config
	// DisableTransactions turns the transaction coordinators off: the
	// transaction APIs are not advertised and transactional produce is not
	// verified.
	DisableTransactions bool
	// TransactionStateTopicPartitions is
	// transaction.state.log.num.partitions, used when __transaction_state
	// is created (on the first FindCoordinator for a transactional id); 0
	// means Kafka's 50. An existing topic keeps its partitions.
	TransactionStateTopicPartitions int32
	// Txn configures the transaction coordinators (ProducerIDs is set by
	// the broker); nil means txn.DefaultConfig().
	Txn *txn.Config
	// TransactionVersion is the transaction.version feature level
	// ApiVersions finalizes (KIP-890, KIP-1022); 2 lets clients use
	// KIP-890 part 2 (Produce v12's implicit add, EndTxn v5's epoch bump
	// per transaction, TxnOffsetCommit v5). 0 advertises no feature.
	// basket serve sets it from basket.transaction.version (default 2).
	TransactionVersion int16
	// Cleaner configures log compaction (log.cleaner.*); nil disables it
	// (log.cleaner.enable=false), and Threads 0 runs no cleaner goroutine.
	// Bound and Logger are set by the broker.
	Cleaner *cleaner.Options
	// AddPartitionsRetryBackoff and AddPartitionsRetryBackoffMax are
	// add.partitions.to.txn.retry.backoff.ms and .max.ms (KAFKA-18654);
	// zero means Kafka's 20 ms and 100 ms.
	AddPartitionsRetryBackoff, AddPartitionsRetryBackoffMax time.Duration

	Logger *slog.Logger
	// TxnVerifier verifies transactional produce (KIP-890 part 1); nil
	// means the broker's own transaction coordinators. Tests set a fake.
	TxnVerifier api.TxnVerifier
}

// Broker is a running single-node broker.
type Broker struct {
	cfg      Config
	logger   *slog.Logger
	data     *log.Dir
	meta     *metadata.Store
	replicas *replica.Manager
	groups   *runtime.Runtime
	txns     *runtime.Transactions // nil with DisableTransactions
	cleaner  *cleaner.Cleaner
	handlers *api.Handlers
	frames   wire.BufferPool // produce frames, reused across connections
	ln       net.Listener

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	conns  map[*conn]struct{}
	wg     sync.WaitGroup
}

// Start opens the data directory, recovers the logs and metadata, and
// listens. It returns once the broker accepts connections.
func Start(cfg Config) (*Broker, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BrokerConfig == nil {
		cfg.BrokerConfig, _ = config.NewBroker(map[string]string{"node.id": strconv.Itoa(int(cfg.NodeID))})
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	mp, err := loadOrCreateMetaProperties(cfg.DataDir, cfg.NodeID)
	if err != nil {
		return nil, err
	}
	b := &Broker{cfg: cfg, logger: cfg.Logger, conns: map[*conn]struct{}{}}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			b.closeStorage()
		}
	}()
	if b.meta, err = metadata.OpenStore(filepath.Join(cfg.DataDir, "metadata"), log.Options{Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	im := b.meta.Image()
	b.publishBrokerConfig(nil, im)
	b.data, err = log.OpenDir(cfg.DataDir, log.Options{
		Logger: cfg.Logger, Durability: cfg.Durability, RecoveryThreads: cfg.RecoveryThreads,
		RetentionCheckInterval: cfg.RetentionCheckInterval, CheckpointInterval: cfg.CheckpointInterval,
		PageCacheRetainBytes: cfg.PageCacheRetainBytes,
		RebuildTxnIndex:      producerstate.RebuildTxnIndex,
		Config: func(tp log.TopicPartition) log.Config {
			if t, ok := im.Topic(tp.Topic); ok {
				return cfg.TopicLogConfig(t)
			}
			return log.DefaultConfig()
		},
	})
	if err != nil {
		return nil, err
	}
	b.replicas = replica.NewManager(b.data, cfg.NodeID, cfg.Durability == log.DurabilitySync, cfg.TopicLogConfig, cfg.Logger)
	if err := b.replicas.Apply(im); err != nil {
		return nil, err
	}
	b.meta.Subscribe(func(old, next *metadata.Image) {
		b.publishBrokerConfig(old, next)
		if err := b.replicas.Apply(next); err != nil {
			b.logger.Error("applying metadata", "offset", next.Offset, "err", err)
		}
	})
	ctrl := controller.New(b.meta, controller.Options{NodeID: cfg.NodeID, DefaultPartitions: cfg.NumPartitions, ValidateTopicConfigs: cfg.ValidateTopicCfgs})

	if b.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	host, port, err := advertised(cfg.Advertise, b.ln.Addr())
	if err != nil {
		b.ln.Close()
		return nil, err
	}
	b.handlers = &api.Handlers{
		Node:  api.Node{ID: cfg.NodeID, Host: host, Port: port, ClusterID: mp.ClusterID},
		Image: b.meta.Image, Admin: ctrl, Partitions: b.replicas, Logger: cfg.Logger,
		AutoCreateTopics: cfg.AutoCreateTopics, MaxMessageBytes: cfg.MaxMessageBytes,
		BrokerConfig: cfg.BrokerConfig, TxnVerifier: cfg.TxnVerifier, OffsetsTopicSegmentBytes: cfg.OffsetsTopicSegmentBytes,
	}
	b.startCleaner()
	b.groups = b.startGroups(offsetsTopicPartitions(b.meta.Image(), cfg.OffsetsTopicPartitions))
	b.handlers.Groups = b.groups
	b.handlers.GroupTxnMarkers = b.groups
	b.handlers.LogDirs = logDirs{b}
	if !cfg.DisableTransactions {
		b.txns = b.startTxns(ctrl, transactionStatePartitions(b.meta.Image(), cfg.TransactionStateTopicPartitions))
		b.handlers.Txns = b.txns
		b.handlers.TransactionVersion = cfg.TransactionVersion
		b.handlers.AddPartitionsRetryBackoff, b.handlers.AddPartitionsRetryBackoffMax = cfg.AddPartitionsRetryBackoff, cfg.AddPartitionsRetryBackoffMax
		if cfg.TxnVerifier == nil {
			b.handlers.TxnVerifier = b.txns
		}
	}
	// Coordinators waiting for their topic's partitions start loading as
	// soon as the replicas (the subscriber above) have them.
	groups, txns := b.groups, b.txns
	b.meta.Subscribe(func(_, _ *metadata.Image) {
		groups.PartitionsChanged()
		if txns != nil {
			txns.PartitionsChanged()
		}
	})
	ok = true
	b.wg.Add(2)
	go b.accept()
	go b.upkeep()
	return b, nil
}

// upkeepInterval is Kafka's producer.id.expiration.check.interval.ms.
const upkeepInterval = 10 * time.Minute

// upkeep runs the partitions' periodic work until the broker closes.
func (b *Broker) upkeep() {
	defer b.wg.Done()
	t := time.NewTicker(upkeepInterval)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case now := <-t.C:
			b.replicas.Maintain(now.UnixMilli(), producerstate.DefaultProducerIDExpirationMs)
		}
	}
}

// publishBrokerConfig hands OnBrokerConfig the static configuration with
// the dynamic broker configs of next layered on, unless they are unchanged
// since old (nil at startup).
func (b *Broker) publishBrokerConfig(old, next *metadata.Image) {
	if b.cfg.OnBrokerConfig == nil || b.cfg.BrokerConfig == nil {
		return
	}
	self := strconv.Itoa(int(b.cfg.NodeID))
	if old != nil && maps.Equal(old.BrokerConfigs(""), next.BrokerConfigs("")) && maps.Equal(old.BrokerConfigs(self), next.BrokerConfigs(self)) {
		return
	}
	eff, err := b.cfg.BrokerConfig.WithDynamic(controller.DynamicBrokerConfigs(next, b.cfg.NodeID))
	if err != nil {
		b.logger.Error("dynamic broker configs do not apply; keeping the previous ones", "offset", next.Offset, "err", err)
		return
	}
	if b.cleaner != nil {
		b.cleaner.SetIOMaxBytesPerSecond(eff.Double("log.cleaner.io.max.bytes.per.second"))
	}
	b.cfg.OnBrokerConfig(eff)
}

// advertised picks the host and port clients are told to use.
func advertised(adv string, addr net.Addr) (string, int32, error) {
	if adv == "" {
		adv = addr.String()
	}
	host, portText, err := net.SplitHostPort(adv)
	if err != nil {
		return "", 0, fmt.Errorf("advertised address %q: %w", adv, err)
	}
	port, err := strconv.ParseInt(portText, 10, 32)
	if err != nil || port <= 0 {
		return "", 0, fmt.Errorf("advertised address %q: bad port", adv)
	}
	return host, int32(port), nil
}

// Addr is the address the broker listens on.
func (b *Broker) Addr() net.Addr { return b.ln.Addr() }

// ClusterID is the cluster id from meta.properties.
func (b *Broker) ClusterID() string { return b.handlers.Node.ClusterID }

// acceptBackoffMin and acceptBackoffMax bound the wait after a failed
// accept, doubling while accepts keep failing.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// accept serves every connection the listener takes until the broker
// closes.
func (b *Broker) accept() {
	defer b.wg.Done()
	var backoff time.Duration
	for {
		nc, err := b.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || b.ctx.Err() != nil {
				return
			}
			// Out of file descriptors (EMFILE, ENFILE), a connection
			// reset before it was taken, no buffer space: the listener
			// still works, and the pending connection is still queued.
			// Wait a little and take it when there is room again.
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			b.logger.Error("accept failed; retrying", "err", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-b.ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		c := newConn(b, nc)
		b.mu.Lock()
		b.conns[c] = struct{}{}
		b.mu.Unlock()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			c.serve()
			b.mu.Lock()
			delete(b.conns, c)
			b.mu.Unlock()
		}()
	}
}

// Close stops the broker: no new connections, every connection closed, the
// logs flushed and closed cleanly.
func (b *Broker) Close() error {
	b.cancel()
	b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.close()
	}
	b.mu.Unlock()
	b.wg.Wait()
	if b.txns != nil {
		b.txns.Close() // first: its marker writers write through the group shards
	}
	b.groups.Close() // before the logs close: a shard may be writing
	return b.closeStorage()
}

func (b *Broker) closeStorage() error {
	if b.cleaner != nil {
		b.cleaner.Close() // before the logs close: it may be swapping segments
	}
	var errs []error
	if b.replicas != nil {
		errs = append(errs, b.replicas.Close())
	}
	if b.data != nil {
		errs = append(errs, b.data.Close())
	}
	if b.meta != nil {
		errs = append(errs, b.meta.Close())
	}
	return errors.Join(errs...)
}
