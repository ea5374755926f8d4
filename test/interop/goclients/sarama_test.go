package goclients

import (
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// saramaLog collects sarama's (process-wide) log; tests search it for lines
// naming their broker's address. SARAMA_LOG=1 also prints it.
var saramaLog = new(syncBuffer)

func init() {
	var w io.Writer = saramaLog
	if os.Getenv("SARAMA_LOG") != "" {
		w = io.MultiWriter(saramaLog, os.Stderr)
	}
	sarama.Logger = log.New(w, "[sarama] ", log.Ltime|log.Lmicroseconds)
}

// saramaConfig is sarama's default configuration with a client id naming
// the test and short retry back-offs.
func saramaConfig(t *testing.T) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = "sarama-" + strings.ReplaceAll(t.Name(), "/", "-")
	cfg.Metadata.Retry.Backoff = 100 * time.Millisecond
	cfg.Producer.Retry.Backoff = 100 * time.Millisecond
	cfg.Net.DialTimeout = 10 * time.Second
	return cfg
}

// saramaMessages turns test records into producer messages for topic.
func saramaMessages(topic string, recs []testRecord) []*sarama.ProducerMessage {
	msgs := make([]*sarama.ProducerMessage, len(recs))
	for i, r := range recs {
		m := &sarama.ProducerMessage{Topic: topic, Value: sarama.ByteEncoder(r.Value)}
		if r.Key != nil {
			m.Key = sarama.ByteEncoder(r.Key)
		}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h[0]), Value: []byte(h[1])})
		}
		msgs[i] = m
	}
	return msgs
}

// fromSarama turns a consumed sarama message into a testRecord.
func fromSarama(m *sarama.ConsumerMessage) testRecord {
	r := testRecord{Key: m.Key, Value: m.Value}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, [2]string{string(h.Key), string(h.Value)})
	}
	return r
}

// TestSarama_ApiVersionsRequest sends ApiVersions at every version sarama
// can encode (KIP-511: v3+ names the client software, v4 is what sarama
// sends for Config.Version ≥ 3.9) and checks the advertised ranges cover
// what sarama's default configuration asks for.
func TestSarama_ApiVersionsRequest(t *testing.T) {
	b := startBroker(t)
	cfg := saramaConfig(t)
	cfg.Version = sarama.MaxVersion // sarama refuses to send v4 below 3.9
	br := sarama.NewBroker(b.Addr)
	if err := br.Open(cfg); err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	for v := int16(0); v <= 4; v++ {
		resp, err := br.ApiVersions(&sarama.ApiVersionsRequest{
			Version: v, ClientSoftwareName: "sarama", ClientSoftwareVersion: "1.61.1",
		})
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		if resp.ErrorCode != 0 {
			t.Fatalf("v%d: error code %d", v, resp.ErrorCode)
		}
		ranges := map[int16][2]int16{}
		for _, k := range resp.ApiKeys {
			ranges[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
		}
		// What sarama's default Config.Version (2.8) sends, protocol.md §1.1.
		for key, want := range map[int16]int16{0: 9, 1: 12, 2: 6, 3: 11, 8: 8, 9: 7, 10: 3, 11: 7, 14: 5, 18: 3, 19: 7} {
			if r, ok := ranges[key]; !ok || r[0] > want || r[1] < want {
				t.Errorf("v%d: key %d advertised %v, does not cover v%d", v, key, r, want)
			}
		}
		if v >= 3 {
			found := false
			for _, f := range resp.FinalizedFeatures {
				found = found || f.Name == "transaction.version"
			}
			if !found {
				t.Errorf("v%d: no finalized transaction.version feature: %+v", v, resp.FinalizedFeatures)
			}
		}
	}
}

// TestSarama_VersionNegotiation runs a producer and a consumer at several
// Config.Version settings: sarama derives each request version from it and
// clamps into the broker's advertised range. Versions below 0.11 are not
// listed: they produce message format v0/v1 (Produce v0-2), which Basket
// refuses, as Kafka 4.0 does (KIP-896; TestSarama_PreV011IsRefused).
func TestSarama_VersionNegotiation(t *testing.T) {
	b := startBroker(t)
	for _, v := range []sarama.KafkaVersion{
		sarama.V0_11_0_0, sarama.V1_0_0_0, sarama.V2_1_0_0, sarama.DefaultVersion,
		sarama.V3_6_0_0, sarama.V3_9_0_0, sarama.V4_0_0_0, sarama.MaxVersion,
	} {
		t.Run(v.String(), func(t *testing.T) {
			topic := "negotiate-" + strings.ReplaceAll(v.String(), ".", "-")
			logFrom := len(saramaLog.String())
			createTopic(t, b, topic, 1, nil)
			cfg := saramaConfig(t)
			cfg.Version = v
			cfg.Producer.Return.Successes = true
			cfg.Producer.RequiredAcks = sarama.WaitForAll
			cfg.Producer.Compression = sarama.CompressionLZ4
			want := testRecords(topic, 20)
			if !v.IsAtLeast(sarama.V0_11_0_0) { // no headers before record batch v2
				for i := range want {
					want[i].Headers = nil
				}
			}
			prod, err := sarama.NewSyncProducer([]string{b.Addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer prod.Close()
			if err := prod.SendMessages(saramaMessages(topic, want)); err != nil {
				t.Fatalf("send: %v", err)
			}
			cons, err := sarama.NewConsumer([]string{b.Addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer cons.Close()
			pc, err := cons.ConsumePartition(topic, 0, sarama.OffsetOldest)
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			timeout := time.After(60 * time.Second)
			for i := range want {
				select {
				case m := <-pc.Messages():
					if m.Offset != int64(i) || !equalRecords(fromSarama(m), want[i]) {
						t.Fatalf("message %d: offset %d %v, want %v", i, m.Offset, fromSarama(m), want[i])
					}
				case err := <-pc.Errors():
					t.Fatalf("consume: %v", err)
				case <-timeout:
					t.Fatalf("consumed %d of %d messages in 60s", i, len(want))
				}
			}
			if hwm := pc.HighWaterMarkOffset(); hwm != int64(len(want)) {
				t.Errorf("high watermark %d, want %d", hwm, len(want))
			}
			checkStored(t, b, topic, want, 3)
			checkApiVersionsLog(t, saramaLog.String()[logFrom:], b.Addr, v)
		})
	}
}

// checkApiVersionsLog checks in sarama's log that every connection to addr
// completed its first ApiVersions request at the version sarama sends for
// v (3, or 4 from 3.9), with no retry at a lower version.
func checkApiVersionsLog(t *testing.T, logged, addr string, v sarama.KafkaVersion) {
	t.Helper()
	want := "Completed ApiVersionsRequest V3 to " + addr
	if v.IsAtLeast(sarama.V3_9_0_0) {
		want = "Completed ApiVersionsRequest V4 to " + addr
	}
	completed := 0
	for _, l := range strings.Split(logged, "\n") {
		switch {
		case !strings.Contains(l, "ApiVersionsRequest") || !strings.Contains(l, addr):
		case strings.Contains(l, want):
			completed++
		default:
			t.Errorf("sarama: %s", l)
		}
	}
	if completed == 0 {
		t.Errorf("sarama logged no %q", want)
	}
}

// TestSarama_PreV011IsRefused documents why Config.Version below 0.11 does
// not work: sarama then writes message format v0/v1 with Produce v0-2,
// which Basket, like Apache Kafka 4.0 (KIP-896, KAFKA-18659), advertises
// for old librdkafka's feature checks but refuses by closing the
// connection. The producer must fail, not hang, and nothing is stored.
func TestSarama_PreV011IsRefused(t *testing.T) {
	b := startBroker(t)
	topic := "sarama-old"
	createTopic(t, b, topic, 1, nil)
	cfg := saramaConfig(t)
	cfg.Version = sarama.V0_10_2_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 1
	prod, err := sarama.NewSyncProducer([]string{b.Addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	_, _, err = prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder("old")})
	if err == nil {
		t.Fatal("Produce v2 from sarama 0.10.2 succeeded")
	}
	t.Logf("sarama 0.10.2 producer: %v", err)
	if end := endOffsets(t, b, topic)[0]; end != 0 {
		t.Fatalf("%s ends at %d, want nothing stored", topic, end)
	}
}

// TestSarama_IdempotentSyncProducer produces with an idempotent
// SyncProducer, acks=all, for every codec, and checks with kgo that each
// batch is stored with that codec and carries a producer id, and that the
// records read back identical.
func TestSarama_IdempotentSyncProducer(t *testing.T) {
	b := startBroker(t)
	for _, c := range codecs {
		t.Run(c.Name, func(t *testing.T) {
			topic := "sarama-idem-" + c.Name
			createTopic(t, b, topic, 1, nil)
			cfg := saramaConfig(t)
			cfg.Producer.Idempotent = true
			cfg.Net.MaxOpenRequests = 1
			cfg.Producer.RequiredAcks = sarama.WaitForAll
			cfg.Producer.Return.Successes = true
			var err error
			if cfg.Producer.Compression, err = saramaCodec(c.Name); err != nil {
				t.Fatal(err)
			}
			prod, err := sarama.NewSyncProducer([]string{b.Addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer prod.Close()
			want := testRecords(topic, 200)
			// Half in one call (sarama batches them), then one at a time.
			msgs := saramaMessages(topic, want)
			if err := prod.SendMessages(msgs[:100]); err != nil {
				t.Fatalf("send: %v", err)
			}
			for _, m := range msgs[100:] {
				if _, _, err := prod.SendMessage(m); err != nil {
					t.Fatalf("send: %v", err)
				}
			}
			for i, m := range msgs {
				if m.Offset != int64(i) {
					t.Fatalf("message %d acknowledged at offset %d", i, m.Offset)
				}
			}
			recs := checkStored(t, b, topic, want, c.ID)
			for _, r := range recs {
				if r.ProducerID < 0 || r.ProducerID != recs[0].ProducerID || r.ProducerEpoch != recs[0].ProducerEpoch {
					t.Fatalf("offset %d: producer id %d epoch %d, want one idempotent producer (first: %d/%d)",
						r.Offset, r.ProducerID, r.ProducerEpoch, recs[0].ProducerID, recs[0].ProducerEpoch)
				}
			}
		})
	}
}

func saramaCodec(name string) (sarama.CompressionCodec, error) {
	var c sarama.CompressionCodec
	return c, c.UnmarshalText([]byte(name))
}

// TestSarama_AsyncProducerThroughput sends 20,000 records through an
// AsyncProducer to three partitions and checks every one is acknowledged
// exactly once, at distinct offsets, and that the partitions hold exactly
// those records.
func TestSarama_AsyncProducerThroughput(t *testing.T) {
	const n = 20000
	b := startBroker(t)
	topic := "sarama-async"
	createTopic(t, b, topic, 3, nil)
	cfg := saramaConfig(t)
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForLocal
	cfg.Producer.Compression = sarama.CompressionSnappy
	cfg.Producer.Flush.Messages = 500
	cfg.Producer.Flush.Frequency = 5 * time.Millisecond
	prod, err := sarama.NewAsyncProducer([]string{b.Addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	acked := make([]int, n)
	type at struct {
		Partition int32
		Offset    int64
	}
	where := map[at]int{}
	var errs []error
	var wg sync.WaitGroup
	wg.Go(func() {
		for m := range prod.Successes() {
			i := m.Metadata.(int)
			acked[i]++
			p := at{m.Partition, m.Offset}
			if j, dup := where[p]; dup {
				errs = append(errs, fmt.Errorf("records %d and %d both acknowledged at %+v", j, i, p))
			}
			where[p] = i
		}
	})
	wg.Go(func() {
		for e := range prod.Errors() {
			errs = append(errs, e)
		}
	})
	start := time.Now()
	for i := range n {
		prod.Input() <- &sarama.ProducerMessage{
			Topic: topic, Key: sarama.StringEncoder(fmt.Sprint(i)),
			Value: sarama.StringEncoder(fmt.Sprintf("async %d", i)), Metadata: i,
		}
	}
	prod.AsyncClose()
	wg.Wait()
	t.Logf("%d records acknowledged in %v", n, time.Since(start))
	for _, err := range errs[:min(len(errs), 10)] {
		t.Error(err)
	}
	for i, c := range acked {
		if c != 1 {
			t.Fatalf("record %d acknowledged %d times", i, c)
		}
	}
	total := int64(0)
	for _, end := range endOffsets(t, b, topic) {
		total += end
	}
	if total != n {
		t.Fatalf("partitions hold %d records, want %d", total, n)
	}
	seen := make([]bool, n)
	for _, r := range readAll(t, b, topic, n) {
		var i int
		if _, err := fmt.Sscanf(string(r.Value), "async %d", &i); err != nil || string(r.Key) != fmt.Sprint(i) {
			t.Fatalf("record %d/%d: key %q value %q", r.Partition, r.Offset, r.Key, r.Value)
		}
		if seen[i] || where[at{r.Partition, r.Offset}] != i {
			t.Fatalf("record %d read at %d/%d, acknowledged elsewhere or twice", i, r.Partition, r.Offset)
		}
		seen[i] = true
	}
}
