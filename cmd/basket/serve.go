package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/basketmq/basket/internal/config"
	"github.com/basketmq/basket/internal/coordinator/group"
	"github.com/basketmq/basket/internal/coordinator/txn"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/log/cleaner"
	"github.com/basketmq/basket/internal/metadata"
	"github.com/basketmq/basket/internal/server"
)

type serveFlags struct {
	dataDir, listen, advertise, configFile string
	overrides                              []string
	cpuProfile                             string // pprof CPU profile, written while serving
}

func serveCommand() *cobra.Command {
	var f serveFlags
	var help bytes.Buffer
	config.WriteHelp(&help, config.BrokerKeys())
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a broker",
		Long: `Run a single Basket broker. With no flags it listens on 127.0.0.1:9092 and keeps
its data in ./data, acknowledging writes only once they are fsynced.

Configuration uses Apache Kafka's server.properties keys, from --config FILE and
--override key=value (applied in that order, overrides last). The keys:

` + help.String(),
		Example: `  basket serve
  basket serve --data-dir /var/lib/basket --listen 0.0.0.0:9092 --advertise broker1:9092
  basket serve --config server.properties --override num.partitions=6`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return serve(f) },
	}
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "", "data directory (log.dirs; default ./data)")
	cmd.Flags().StringVar(&f.listen, "listen", "", "HOST:PORT to listen on (listeners; default 127.0.0.1:9092)")
	cmd.Flags().StringVar(&f.advertise, "advertise", "", "HOST:PORT clients should connect to (advertised.listeners)")
	cmd.Flags().StringVar(&f.configFile, "config", "", "server.properties file")
	cmd.Flags().StringArrayVar(&f.overrides, "override", nil, "key=value configuration, repeatable")
	cmd.Flags().StringVar(&f.cpuProfile, "cpu-profile", "", "write a CPU profile (go tool pprof) to this file until shutdown")
	_ = cmd.Flags().MarkHidden("cpu-profile") // for performance work, not operations
	return cmd
}

// brokerConfig layers the config file, the flags and the overrides.
func brokerConfig(f serveFlags) (*config.Broker, error) {
	props := map[string]string{}
	if f.configFile != "" {
		file, err := os.Open(f.configFile)
		if err != nil {
			return nil, err
		}
		props, err = config.ParseProperties(file)
		file.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.configFile, err)
		}
	}
	if f.dataDir != "" {
		props["log.dirs"] = f.dataDir
	}
	if f.listen != "" {
		props["listeners"] = "PLAINTEXT://" + f.listen
	}
	if f.advertise != "" {
		props["advertised.listeners"] = "PLAINTEXT://" + f.advertise
	}
	for _, o := range f.overrides {
		k, v, err := config.ParseOverride(o)
		if err != nil {
			return nil, err
		}
		props[k] = v
	}
	return config.NewBroker(props)
}

// serverConfig turns the resolved broker configuration into what the
// server needs.
func serverConfig(b *config.Broker, logger *slog.Logger) (server.Config, error) {
	dirs := b.List("log.dirs")
	if len(dirs) != 1 {
		return server.Config{}, fmt.Errorf("log.dirs: exactly one directory is supported, got %d", len(dirs))
	}
	ls, adv := b.Listeners(), b.AdvertisedListeners()
	if len(ls) != 1 {
		return server.Config{}, fmt.Errorf("listeners: exactly one listener is supported, got %d", len(ls))
	}
	durability := log.DurabilitySync
	if b.String("basket.log.flush.policy") == "async" {
		durability = log.DurabilityAsync
	}
	// Topics take their defaults from the broker configuration with the
	// dynamic broker configs on top, which the server publishes here.
	current := new(atomic.Pointer[config.Broker])
	current.Store(b)
	topic := func(t *metadata.Topic) config.TopicConfig { return current.Load().ResolveTopic(t.Configs) }
	cfg := server.Config{
		DataDir: dirs[0], Listen: ls[0].Addr(), NodeID: b.Int("node.id"),
		Durability: durability, AutoCreateTopics: b.Bool("auto.create.topics.enable"),
		NumPartitions: b.Int("num.partitions"), MaxRequestBytes: b.Int("socket.request.max.bytes"),
		RecoveryThreads:        int(b.Int("num.recovery.threads.per.data.dir")),
		RetentionCheckInterval: time.Duration(b.Long("log.retention.check.interval.ms")) * time.Millisecond,
		CheckpointInterval:     time.Duration(b.Int("log.flush.offset.checkpoint.interval.ms")) * time.Millisecond,
		PageCacheRetainBytes:   pageCacheRetain(b.Long("basket.log.page.cache.retain.bytes")),
		TopicLogConfig:         func(t *metadata.Topic) log.Config { return server.LogConfig(topic(t)) },
		MaxMessageBytes:        func(t *metadata.Topic) int32 { return topic(t).MaxMessageBytes },
		ValidateTopicCfgs:      config.ValidateTopicConfigs,
		BrokerConfig:           b,
		OnBrokerConfig:         current.Store,
		Logger:                 logger,

		OffsetsTopicPartitions:   b.Int("offsets.topic.num.partitions"),
		OffsetsTopicSegmentBytes: b.Int("offsets.topic.segment.bytes"),
		Group:                    groupConfig(b),
		Cleaner:                  cleanerConfig(b),

		TransactionStateTopicPartitions: b.Int("transaction.state.log.num.partitions"),
		Txn:                             txnConfig(b),
		TransactionVersion:              int16(b.Int("basket.transaction.version")),
		AddPartitionsRetryBackoff:       time.Duration(b.Int("add.partitions.to.txn.retry.backoff.ms")) * time.Millisecond,
		AddPartitionsRetryBackoffMax:    time.Duration(b.Int("add.partitions.to.txn.retry.backoff.max.ms")) * time.Millisecond,
	}
	if len(adv) > 0 && adv[0].Port != 0 { // port 0: advertise the port actually bound
		cfg.Advertise = adv[0].Addr()
	}
	return cfg, nil
}

// pageCacheRetain maps basket.log.page.cache.retain.bytes onto
// server.Config, where zero means the default: 0 (drop everything durable)
// becomes one byte.
func pageCacheRetain(v int64) int64 {
	if v == 0 {
		return 1
	}
	return v
}

// cleanerConfig is the log cleaner's configuration, nil when
// log.cleaner.enable is false.
func cleanerConfig(b *config.Broker) *cleaner.Options {
	if !b.Bool("log.cleaner.enable") {
		return nil
	}
	return &cleaner.Options{
		Threads:             int(b.Int("log.cleaner.threads")),
		DedupeBufferSize:    b.Long("log.cleaner.dedupe.buffer.size"),
		IOMaxBytesPerSecond: b.Double("log.cleaner.io.max.bytes.per.second"),
		Backoff:             time.Duration(b.Long("log.cleaner.backoff.ms")) * time.Millisecond,
	}
}

// groupConfig is the group coordinators' configuration.
func groupConfig(b *config.Broker) *group.Config {
	ms := func(name string) time.Duration { return time.Duration(b.Int(name)) * time.Millisecond }
	gc := group.DefaultConfig()
	gc.InitialRebalanceDelay = ms("group.initial.rebalance.delay.ms")
	gc.MinSessionTimeout = ms("group.min.session.timeout.ms")
	gc.MaxSessionTimeout = ms("group.max.session.timeout.ms")
	gc.MaxSize = b.Int("group.max.size")
	gc.OffsetsRetention = time.Duration(b.Int("offsets.retention.minutes")) * time.Minute
	gc.ConsumerSessionTimeout = ms("group.consumer.session.timeout.ms")
	gc.ConsumerHeartbeatInterval = ms("group.consumer.heartbeat.interval.ms")
	gc.ConsumerMaxSize = b.Int("group.consumer.max.size")
	gc.ConsumerAssignors = nil
	for _, a := range b.List("group.consumer.assignors") {
		gc.ConsumerAssignors = append(gc.ConsumerAssignors, config.ConsumerAssignor(a))
	}
	return &gc
}

// txnConfig is the transaction coordinators' configuration.
func txnConfig(b *config.Broker) *txn.Config {
	tc := txn.DefaultConfig()
	tc.MaxTimeout = time.Duration(b.Int("transaction.max.timeout.ms")) * time.Millisecond
	tc.TransactionalIDExpiration = time.Duration(b.Int("transactional.id.expiration.ms")) * time.Millisecond
	return &tc
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	file, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(file); err != nil {
		file.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); file.Close() }, nil
}

func serve(f serveFlags) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	bc, err := brokerConfig(f)
	if err != nil {
		return err
	}
	cfg, err := serverConfig(bc, logger)
	if err != nil {
		return err
	}
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	b, err := server.Start(cfg)
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(b.Addr().String())
	fmt.Printf("basket: broker %d listening on %s, data in %s, cluster id %s\n",
		cfg.NodeID, net.JoinHostPort(host, port), cfg.DataDir, b.ClusterID())
	if cfg.Advertise != "" {
		fmt.Printf("basket: clients are told to connect to %s\n", cfg.Advertise)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	fmt.Printf("basket: %s received, shutting down\n", s)
	if err := b.Close(); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	fmt.Println("basket: stopped cleanly")
	return nil
}
