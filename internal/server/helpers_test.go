package server

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/metadata"
)

// testConfig is a broker on a free loopback port with test-sized defaults.
func testConfig(t *testing.T, dir string) Config {
	t.Helper()
	return Config{
		DataDir: dir, Listen: "127.0.0.1:0", NodeID: 1,
		AutoCreateTopics: true, NumPartitions: 1, MaxRequestBytes: 100 << 20,
		TopicLogConfig:  func(*metadata.Topic) log.Config { return log.DefaultConfig() },
		MaxMessageBytes: func(*metadata.Topic) int32 { return 1048588 },
		Logger:          slog.New(slog.DiscardHandler),
		// KIP-890 part 2, as basket serve's default.
		TransactionVersion: 2,
	}
}

func startBroker(t *testing.T, cfg Config) *Broker {
	t.Helper()
	b, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func newClient(t *testing.T, b *Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	c, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr().String())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func createTopic(t *testing.T, adm *kadm.Client, name string, partitions int32) {
	t.Helper()
	resp, err := adm.CreateTopic(ctxT(t), partitions, 1, nil, name)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", name, err, resp.Err)
	}
}

func value(i int) []byte { return []byte("value-" + strconv.Itoa(i)) }

func timeMillis(ms int64) time.Time { return time.UnixMilli(ms) }
