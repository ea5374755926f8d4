package server

// Hostile and broken input, written byte by byte to a running broker
// (reliability.md §4.5 and §6.3 S8; protocol.md §5.1, §5.3, §5.5). A
// protocol violation — a frame size out of bounds, garbage, an unknown API
// key, a version Basket does not serve, a body that does not decode — closes
// that connection, without the broker allocating what the peer declared. A
// bad batch or topic is a Kafka error code in the response and the
// connection stays usable. Through all of it a well-behaved kgo client on
// its own connection keeps producing and consuming.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/api"
	"github.com/basketmq/basket/internal/metadata"
	"github.com/basketmq/basket/internal/record"
)

// closeTimeout is how long a test waits for the broker to close a
// connection it must close.
const closeTimeout = 5 * time.Second

// rawConn is a client connection driven by hand, so a test can send
// anything. Requests are encoded with kmsg behind a header written here.
type rawConn struct {
	t    *testing.T
	nc   net.Conn
	corr int32
}

func dialRaw(t *testing.T, b *Broker) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", b.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc}
}

func (c *rawConn) write(p []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(p); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// rawHeader appends a request header: v2 (client id, then an
// empty tagged-field section) when flexible, v1 otherwise.
func rawHeader(dst []byte, key, version int16, corr int32, flexible bool) []byte {
	const clientID = "badinput"
	dst = binary.BigEndian.AppendUint16(dst, uint16(key))
	dst = binary.BigEndian.AppendUint16(dst, uint16(version))
	dst = binary.BigEndian.AppendUint32(dst, uint32(corr))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(clientID)))
	dst = append(dst, clientID...)
	if flexible {
		dst = append(dst, 0)
	}
	return dst
}

// rawFrame prefixes payload with its int32 size.
func rawFrame(payload []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

// rawRequest frames req, encoded at its version, with correlation id
// corr.
func rawRequest(corr int32, req kmsg.Request) []byte {
	return rawFrame(req.AppendTo(rawHeader(nil, req.Key(), req.GetVersion(), corr, req.IsFlexible())))
}

// send writes req and returns its correlation id.
func (c *rawConn) send(req kmsg.Request) int32 {
	c.t.Helper()
	c.corr++
	c.write(rawRequest(c.corr, req))
	return c.corr
}

// readFrame reads one response frame.
func (c *rawConn) readFrame() []byte {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(15 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(c.nc, size[:]); err != nil {
		c.t.Fatalf("reading a response: %v", err)
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 64<<20 {
		c.t.Fatalf("response frame size %d", n)
	}
	f := make([]byte, n)
	if _, err := io.ReadFull(c.nc, f); err != nil {
		c.t.Fatalf("reading a response of %d bytes: %v", n, err)
	}
	return f
}

// receive reads the next response, checks that it answers corr and decodes
// it as the response to req. Responses use header v1 (with tagged fields)
// when flexible, except ApiVersions, which always uses v0 (KIP-511).
func (c *rawConn) receive(req kmsg.Request, corr int32) kmsg.Response {
	c.t.Helper()
	f := c.readFrame()
	if got := int32(binary.BigEndian.Uint32(f)); got != corr {
		c.t.Fatalf("response carries correlation id %d, want %d", got, corr)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	body := f[4:]
	if resp.IsFlexible() && req.Key() != 18 {
		if len(body) == 0 || body[0] != 0 {
			c.t.Fatalf("%s v%d response header: tagged fields %x, want none", kmsg.NameForKey(req.Key()), req.GetVersion(), body[:min(len(body), 1)])
		}
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		c.t.Fatalf("%s v%d response does not decode: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp
}

func (c *rawConn) roundTrip(req kmsg.Request) kmsg.Response {
	c.t.Helper()
	return c.receive(req, c.send(req))
}

// expectClosed fails unless the broker closes the connection, without
// answering, within closeTimeout.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(closeTimeout))
	buf := make([]byte, 64)
	n, err := c.nc.Read(buf)
	var ne net.Error
	switch {
	case err == nil:
		c.t.Fatalf("broker answered %x instead of closing the connection", buf[:n])
	case errors.As(err, &ne) && ne.Timeout():
		c.t.Fatalf("connection still open %v after the bad input", closeTimeout)
	}
}

// bystander is a well-behaved kgo client whose connections stay open while
// a test abuses the broker on others: one goroutine produces in the
// background the whole time, and check produces a record and reads it back.
type bystander struct {
	cl    *kgo.Client
	topic string
	n     int

	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	bgErrs   []error
	bgAcked  int
	bgClient *kgo.Client
}

func startBystander(t *testing.T, b *Broker) *bystander {
	t.Helper()
	bs := &bystander{topic: "bystander", stop: make(chan struct{}), done: make(chan struct{})}
	bs.bgClient = newClient(t, b, kgo.DefaultProduceTopic("background"), kgo.RequiredAcks(kgo.AllISRAcks()))
	adm := kadm.NewClient(bs.bgClient)
	createTopic(t, adm, bs.topic, 1)
	createTopic(t, adm, "background", 2)
	bs.cl = newClient(t, b, kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{bs.topic: {0: kgo.NewOffset().AtStart()}}))
	go bs.background()
	eventually(t, 30*time.Second, "the background producer's first acknowledgement", func() bool {
		bs.mu.Lock()
		defer bs.mu.Unlock()
		return bs.bgAcked > 0
	})
	t.Cleanup(func() {
		close(bs.stop)
		<-bs.done
		bs.mu.Lock()
		defer bs.mu.Unlock()
		if len(bs.bgErrs) > 0 {
			t.Errorf("background producer: %d of %d produces failed, first: %v", len(bs.bgErrs), len(bs.bgErrs)+bs.bgAcked, bs.bgErrs[0])
		}
	})
	return bs
}

// eventually polls cond until it holds, failing the test after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// background produces one record every few milliseconds until stopped.
func (bs *bystander) background() {
	defer close(bs.done)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-bs.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := bs.bgClient.ProduceSync(ctx, &kgo.Record{Value: value(i)}).FirstErr()
		cancel()
		bs.mu.Lock()
		if err != nil {
			bs.bgErrs = append(bs.bgErrs, err)
		} else {
			bs.bgAcked++
		}
		bs.mu.Unlock()
	}
}

// check fails the test unless the bystander can still produce a record and
// read it back.
func (bs *bystander) check(t *testing.T) {
	t.Helper()
	ctx := ctxT(t)
	v := fmt.Sprintf("still-serving-%d", bs.n)
	bs.n++
	if err := bs.cl.ProduceSync(ctx, &kgo.Record{Topic: bs.topic, Value: []byte(v)}).FirstErr(); err != nil {
		t.Fatalf("bystander produce: %v", err)
	}
	for {
		fs := bs.cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("bystander reading back %q: %v", v, err)
		}
		for _, r := range fs.Records() {
			if string(r.Value) == v {
				return
			}
		}
	}
}

// A protocol violation closes the offending connection alone (protocol.md
// §5.1: Kafka closes on an unknown key or a version it does not serve).
func TestBadInput_ProtocolViolationClosesConnection(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	b := startBroker(t, cfg)
	bs := startBystander(t, b)

	header := func(key, version int16, flexible bool) []byte {
		return rawHeader(nil, key, version, 7, flexible)
	}
	versioned := func(req kmsg.Request, version int16) []byte {
		req.SetVersion(version)
		return rawRequest(7, req)
	}
	garbage := make([]byte, 200)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	garbage[0], garbage[1] = 0xde, 0xad // an API key no Kafka version has

	for _, tc := range []struct {
		name string
		send []byte
		// halfClose shuts our side for writing after send, for inputs the
		// broker can only reject when the stream ends.
		halfClose bool
	}{
		{name: "frame size 2^31-1", send: []byte{0x7f, 0xff, 0xff, 0xff}},
		{name: "frame size socket.request.max.bytes+1", send: binary.BigEndian.AppendUint32(nil, uint32(cfg.MaxRequestBytes)+1)},
		{name: "negative frame size", send: []byte{0xff, 0xff, 0xff, 0xff}},
		{name: "frame size -2^31", send: []byte{0x80, 0, 0, 0}},
		{name: "frame shorter than a request header", send: rawFrame([]byte{0, 3, 0, 4})},
		{name: "empty frame", send: rawFrame(nil)},
		{name: "HTTP request", send: []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")},
		{name: "TLS client hello", send: []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}},
		{name: "framed garbage", send: rawFrame(garbage)},
		{name: "truncated request then end of stream", send: rawRequest(1, kmsg.NewPtrMetadataRequest())[:9], halfClose: true},
		{name: "size prefix cut short then end of stream", send: []byte{0, 0}, halfClose: true},
		{name: "unknown API key 999", send: rawFrame(header(999, 0, false))},
		{name: "negative API key", send: rawFrame(header(-1, 0, false))},
		{name: "Produce v2 (advertised for librdkafka, not served)", send: versioned(kmsg.NewPtrProduceRequest(), 2)},
		{name: "Produce v0", send: versioned(kmsg.NewPtrProduceRequest(), 0)},
		{name: "Fetch v3", send: versioned(kmsg.NewPtrFetchRequest(), 3)},
		{name: "Metadata v99", send: rawFrame(header(3, 99, true))},
		{name: "Metadata v-1", send: rawFrame(header(3, -1, false))},
		{name: "client id longer than the frame", send: rawFrame([]byte{0, 3, 0, 4, 0, 0, 0, 7, 0x7f, 0xff, 'x'})},
		{name: "ApiVersions v3 with a malformed header", send: rawFrame([]byte{0, 18, 0, 3, 0, 0, 0, 7, 0x10, 0x00})},
		{name: "Metadata v4 body does not decode", send: rawFrame(append(header(3, 4, false), 0, 0, 0, 1, 0, 3, 'a'))},
		{name: "Metadata v4 with 2^31-1 topics", send: rawFrame(append(header(3, 4, false), 0x7f, 0xff, 0xff, 0xff, 0, 1, 'x'))},
		{name: "Produce v7 with a records length beyond the frame", send: rawFrame(append(header(0, 7, false),
			0xff, 0xff, 0xff, 0xff, 0, 0, 0x13, 0x88, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 2, 3))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, b)
			c.write(tc.send)
			if tc.halfClose {
				if err := c.nc.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			c.expectClosed()
			bs.check(t)
		})
	}
}

// allocatedDuring returns the bytes the whole process allocated while fn
// ran.
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// The frame size is checked before anything is allocated, and a large frame
// that is declared but not sent costs what was sent, not what was declared
// (reliability.md §4.5 rule 1, §6.3 S8).
func TestBadInput_DeclaredSizeIsNotAllocated(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	b := startBroker(t, cfg)
	const budget = 8 << 20
	for _, tc := range []struct {
		name     string
		declared uint32
		sent     int
	}{
		{"2^31-1 declared", math.MaxInt32, 0},
		{"socket.request.max.bytes+1 declared", uint32(cfg.MaxRequestBytes) + 1, 0},
		{"64 MiB declared, 4 KiB sent", 64 << 20, 4 << 10},
		{"socket.request.max.bytes declared, 4 KiB sent", uint32(cfg.MaxRequestBytes), 4 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, b)
			alloc := allocatedDuring(func() {
				c.write(append(binary.BigEndian.AppendUint32(nil, tc.declared), make([]byte, tc.sent)...))
				if tc.sent > 0 { // a frame within the limit is read until the stream ends
					c.nc.(*net.TCPConn).CloseWrite()
				}
				c.expectClosed()
			})
			t.Logf("declared %d bytes, sent %d: the process allocated %d KiB", tc.declared, tc.sent, alloc>>10)
			if alloc > budget {
				t.Fatalf("the process allocated %d MiB for a frame declaring %d bytes of which %d were sent", alloc>>20, tc.declared, tc.sent)
			}
		})
	}
	c := dialRaw(t, b)
	if resp := c.roundTrip(kmsg.NewPtrApiVersionsRequest()).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 {
		t.Fatalf("ApiVersions after the oversized frames: %s", errName(resp.ErrorCode))
	}
}

// An array count is bounded by the bytes left in the frame, but the decoder
// allocates the array's elements up front, each much larger than the byte
// it needs on the wire. A request of n bytes should not cost more than a
// small multiple of n (reliability.md §4.5 rule 3 and §6.3 S7: alloc <=
// k*len(input)).
func TestBadInput_ArrayCountAllocationIsBounded(t *testing.T) {
	b := startBroker(t, testConfig(t, t.TempDir()))
	const size, factor = 2 << 20, 16
	// Produce v7: null transactional id, acks -1, timeout, then a topic
	// count that the zero bytes after it can hold; they decode as topics
	// with empty names and no partitions until the frame runs out.
	body := rawHeader(nil, 0, 7, 1, false)
	body = append(body, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x13, 0x88)
	body = binary.BigEndian.AppendUint32(body, uint32(size))
	body = append(body, make([]byte, size)...)
	c := dialRaw(t, b)
	alloc := allocatedDuring(func() {
		c.write(rawFrame(body))
		c.expectClosed()
	})
	t.Logf("a %d KiB Produce request declaring %d topics: the process allocated %d MiB", len(body)>>10, size, alloc>>20)
	if alloc > factor*uint64(len(body)) {
		t.Fatalf("BUG: a %d KiB request made the broker allocate %d MiB (%dx); at socket.request.max.bytes=100 MiB one request could allocate %d GiB",
			len(body)>>10, alloc>>20, alloc/uint64(len(body)), alloc/uint64(len(body))*100>>10)
	}
}

// KIP-511: an ApiVersions request newer than the broker serves is answered
// with a v0 response carrying UNSUPPORTED_VERSION and the ApiVersions range
// (protocol.md §5.3), and the connection stays open for the retry.
func TestBadInput_ApiVersionsTooNewIsAnswered(t *testing.T) {
	b := startBroker(t, testConfig(t, t.TempDir()))
	bs := startBystander(t, b)
	var want api.VersionRange
	for _, v := range api.Advertised() {
		if v.Key == 18 {
			want = v
		}
	}
	for _, version := range []int16{want.Max + 1, 99, math.MaxInt16} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			c := dialRaw(t, b)
			req := kmsg.NewPtrApiVersionsRequest()
			req.Version = version
			req.ClientSoftwareName, req.ClientSoftwareVersion = "badinput", "1.0"
			corr := c.send(req)

			f := c.readFrame()
			if got := int32(binary.BigEndian.Uint32(f)); got != corr {
				t.Fatalf("correlation id %d, want %d", got, corr)
			}
			resp := kmsg.NewPtrApiVersionsResponse()
			resp.Version = 0
			body := f[4:] // response header v0: the correlation id alone
			if err := resp.ReadFrom(body); err != nil {
				t.Fatalf("answer does not decode as ApiVersions v0: %v (%x)", err, body)
			}
			if len(body) != 2+4+6*len(resp.ApiKeys) {
				t.Fatalf("answer is %d bytes, a v0 body with %d keys is %d", len(body), len(resp.ApiKeys), 2+4+6*len(resp.ApiKeys))
			}
			if resp.ErrorCode != kerr.UnsupportedVersion.Code {
				t.Fatalf("error code %d, want UNSUPPORTED_VERSION", resp.ErrorCode)
			}
			if len(resp.ApiKeys) != 1 || resp.ApiKeys[0].ApiKey != 18 || resp.ApiKeys[0].MinVersion != want.Min || resp.ApiKeys[0].MaxVersion != want.Max {
				t.Fatalf("api keys %+v, want ApiVersions %d-%d alone", resp.ApiKeys, want.Min, want.Max)
			}

			// The client retries at the version offered, on the same
			// connection.
			retry := kmsg.NewPtrApiVersionsRequest()
			retry.Version = resp.ApiKeys[0].MaxVersion
			retry.ClientSoftwareName, retry.ClientSoftwareVersion = "badinput", "1.0"
			full := c.roundTrip(retry).(*kmsg.ApiVersionsResponse)
			advertised := len(api.Advertised()) // the transaction APIs too: the coordinators run
			if full.ErrorCode != 0 || len(full.ApiKeys) != advertised {
				t.Fatalf("retry at v%d: error %d, %d keys", retry.Version, full.ErrorCode, len(full.ApiKeys))
			}
			md := kmsg.NewPtrMetadataRequest()
			md.Version = 4
			if resp := c.roundTrip(md).(*kmsg.MetadataResponse); len(resp.Brokers) != 1 {
				t.Fatalf("metadata after the retry: %+v", resp.Brokers)
			}
			bs.check(t)
		})
	}
}

// ApiVersions v3+ names the client software; a name outside Kafka's pattern
// is INVALID_REQUEST in the response, and the connection stays open
// (protocol.md §5.3; librdkafka then retries at v0).
func TestBadInput_ApiVersionsBadSoftwareName(t *testing.T) {
	b := startBroker(t, testConfig(t, t.TempDir()))
	c := dialRaw(t, b)
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "bad name!", "1.0"
	if resp := c.roundTrip(req).(*kmsg.ApiVersionsResponse); resp.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("error code %d, want INVALID_REQUEST", resp.ErrorCode)
	}
	req.Version = 0
	if resp := c.roundTrip(req).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
		t.Fatalf("v0 retry: error %d, %d keys", resp.ErrorCode, len(resp.ApiKeys))
	}
}

// rawBatch is a batch from a producer that is not idempotent.
func rawBatch(t *testing.T, codec record.Codec, values ...string) []byte {
	t.Helper()
	return rawBatchSpec(t, record.BatchSpec{}, codec, values...)
}

func rawBatchSpec(t *testing.T, spec record.BatchSpec, codec record.Codec, values ...string) []byte {
	t.Helper()
	spec.BaseTimestamp = time.Now().UnixMilli()
	if spec.ProducerID == 0 {
		spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence = record.NoProducerID, record.NoProducerEpoch, record.NoSequence
	}
	recs := make([]record.Record, len(values))
	for i, v := range values {
		recs[i] = record.Record{Key: []byte("k"), Value: []byte(v)}
	}
	batch, err := record.AppendBatch(nil, spec, recs, codec)
	if err != nil {
		t.Fatal(err)
	}
	return batch
}

// rawProduce is a Produce v7, acks=all, of records to one partition.
func rawProduce(topic string, partition int32, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 7, -1, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// A bad batch is refused with the error code Kafka clients expect, nothing
// is appended, and the connection stays usable (protocol.md §5.4, §5.5,
// reliability.md §4.5 rule 4).
func TestBadInput_BadProduceIsAnswered(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	const smallLimit = 1024
	cfg.MaxMessageBytes = func(tp *metadata.Topic) int32 {
		if tp.Name == "small" {
			return smallLimit
		}
		return 1048588
	}
	b := startBroker(t, cfg)
	bs := startBystander(t, b)
	adm := kadm.NewClient(bs.bgClient)
	createTopic(t, adm, "target", 1)
	createTopic(t, adm, "small", 1)

	flipped := rawBatch(t, record.CodecNone, "a", "b", "c")
	flipped[len(flipped)-2] ^= 0x10
	compressedGarbage := rawBatch(t, record.CodecGzip, "a", "b", "c", "some more bytes to compress")
	for i := record.HeaderSize + 12; i < len(compressedGarbage)-8; i++ {
		compressedGarbage[i] ^= 0x5a
	}
	record.UpdateCRC(compressedGarbage)
	badMagic := rawBatch(t, record.CodecNone, "a")
	badMagic[16] = 1
	record.UpdateCRC(badMagic)
	overcounted := rawBatch(t, record.CodecNone, "a", "b")
	binary.BigEndian.PutUint32(overcounted[23:], 2) // LastOffsetDelta
	binary.BigEndian.PutUint32(overcounted[57:], 3) // RecordsCount
	record.UpdateCRC(overcounted)
	control := rawBatchSpec(t, record.BatchSpec{Control: true, Transactional: true, ProducerID: 1}, record.CodecNone, "")
	big := make([]byte, 2*smallLimit)
	for i := range big {
		big[i] = byte(i * 7919 >> 3)
	}
	corrupt := []int16{kerr.CorruptMessage.Code}
	// Apache Kafka answers INVALID_RECORD for a partition whose records are
	// not exactly one batch (ProduceRequest.validateRecords); Basket
	// documents CORRUPT_MESSAGE. Either makes the client fail the batch.
	notOneBatch := []int16{kerr.CorruptMessage.Code, kerr.InvalidRecord.Code}

	for _, tc := range []struct {
		name      string
		topic     string
		partition int32
		records   []byte
		want      []int16
	}{
		{"bit flip (CRC mismatch)", "target", 0, flipped, corrupt},
		{"two batches in one partition", "target", 0, append(rawBatch(t, record.CodecNone, "a"), rawBatch(t, record.CodecNone, "b")...), notOneBatch},
		{"truncated batch", "target", 0, rawBatch(t, record.CodecNone, "a", "b")[:40], notOneBatch},
		{"batch missing its last bytes", "target", 0, func() []byte { b := rawBatch(t, record.CodecNone, "a", "b"); return b[:len(b)-3] }(), notOneBatch},
		{"empty records", "target", 0, []byte{}, notOneBatch},
		{"magic 1", "target", 0, badMagic, notOneBatch},
		{"gzip payload that does not decompress (CRC valid)", "target", 0, compressedGarbage, notOneBatch},
		{"header counts 3 records, batch holds 2 (CRC valid)", "target", 0, overcounted, notOneBatch},
		// A client's control batch is INVALID_RECORD; this one is also
		// transactional in a request without a transactional id, which
		// Kafka refuses first (see TestTxn_ClientControlBatchIsInvalidRecord).
		{"control batch from a client", "target", 0, control, []int16{kerr.InvalidRecord.Code, kerr.TransactionalIDAuthorizationFailed.Code}},
		{"batch over max.message.bytes", "small", 0, rawBatch(t, record.CodecNone, string(big)), []int16{kerr.MessageTooLarge.Code}},
		{"unknown topic", "no-such-topic", 0, rawBatch(t, record.CodecNone, "a"), []int16{kerr.UnknownTopicOrPartition.Code}},
		{"unknown partition", "target", 7, rawBatch(t, record.CodecNone, "a"), []int16{kerr.UnknownTopicOrPartition.Code}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, b)
			before := b.replicasEnd(t, "target")
			resp := c.roundTrip(rawProduce(tc.topic, tc.partition, tc.records)).(*kmsg.ProduceResponse)
			if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
				t.Fatalf("response has %d topics", len(resp.Topics))
			}
			p := resp.Topics[0].Partitions[0]
			switch {
			case p.ErrorCode == 0:
				t.Fatalf("the batch was accepted at offset %d, want one of %v", p.BaseOffset, errNames(tc.want))
			case !slices.Contains(tc.want, p.ErrorCode):
				t.Fatalf("error %s, want one of %v", errName(p.ErrorCode), errNames(tc.want))
			}
			t.Logf("answered %s", errName(p.ErrorCode))
			if after := b.replicasEnd(t, "target"); after != before {
				t.Fatalf("log end offset moved from %d to %d: the refused batch was appended", before, after)
			}
			// The connection stays usable: a good batch is appended next.
			ok := c.roundTrip(rawProduce("target", 0, rawBatch(t, record.CodecNone, "good"))).(*kmsg.ProduceResponse)
			if p := ok.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != before {
				t.Fatalf("good batch after the bad one: error %s at %d, want offset %d", errName(p.ErrorCode), p.BaseOffset, before)
			}
			bs.check(t)
		})
	}
}

func errName(code int16) string {
	if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok {
		return e.Message
	}
	return fmt.Sprint(code)
}

func errNames(codes []int16) []string {
	var names []string
	for _, c := range codes {
		names = append(names, errName(c))
	}
	return names
}

// CreateTopics validates each topic and answers per topic (protocol.md
// §5.7 admin codes); nothing invalid is created.
func TestBadInput_BadCreateTopicsIsAnswered(t *testing.T) {
	b := startBroker(t, testConfig(t, t.TempDir()))
	bs := startBystander(t, b)
	c := dialRaw(t, b)
	long := make([]byte, 250)
	for i := range long {
		long[i] = 'a'
	}
	for _, tc := range []struct {
		name              string
		topic             string
		partitions        int32
		replicationFactor int16
		want              *kerr.Error
	}{
		{"slash in name", "bad/name", 1, 1, kerr.InvalidTopicException},
		{"name ..", "..", 1, 1, kerr.InvalidTopicException},
		{"name .", ".", 1, 1, kerr.InvalidTopicException},
		{"empty name", "", 1, 1, kerr.InvalidTopicException},
		{"name over 249 characters", string(long), 1, 1, kerr.InvalidTopicException},
		{"space in name", "has space", 1, 1, kerr.InvalidTopicException},
		{"replication factor 3 on one broker", "rf3", 1, 3, kerr.InvalidReplicationFactor},
		{"replication factor 0", "rf0", 1, 0, kerr.InvalidReplicationFactor},
		{"zero partitions", "p0", 0, 1, kerr.InvalidPartitions},
		{"negative partitions", "pneg", -5, 1, kerr.InvalidPartitions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := kmsg.NewPtrCreateTopicsRequest()
			req.Version, req.TimeoutMillis = 5, 10000
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = tc.topic, tc.partitions, tc.replicationFactor
			req.Topics = append(req.Topics, rt)
			resp := c.roundTrip(req).(*kmsg.CreateTopicsResponse)
			if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != tc.want.Code {
				t.Fatalf("answer %+v, want %v", resp.Topics, tc.want)
			}
			md := kmsg.NewPtrMetadataRequest()
			md.Version = 4
			mt := kmsg.NewMetadataRequestTopic()
			mt.Topic = kmsg.StringPtr(tc.topic)
			md.Topics = append(md.Topics, mt)
			mresp := c.roundTrip(md).(*kmsg.MetadataResponse)
			if len(mresp.Topics) == 1 && mresp.Topics[0].ErrorCode == 0 {
				t.Fatalf("topic %q was created", tc.topic)
			}
			bs.check(t)
		})
	}
}

// Clients pipeline requests; the broker answers one connection's requests
// in order (protocol.md §5.1), also when a produce waits for its fsync while
// the requests behind it are answered at once.
func TestBadInput_PipelinedRequestsAnsweredInOrder(t *testing.T) {
	b := startBroker(t, testConfig(t, t.TempDir()))
	createTopic(t, kadm.NewClient(newClient(t, b)), "pipe", 1)
	c := dialRaw(t, b)
	const n = 150
	reqs := make([]kmsg.Request, n)
	var burst []byte
	for i := range reqs {
		switch i % 3 {
		case 0:
			reqs[i] = rawProduce("pipe", 0, rawBatch(t, record.CodecNone, fmt.Sprint(i)))
		case 1:
			md := kmsg.NewPtrMetadataRequest()
			md.Version = 4
			reqs[i] = md
		default:
			av := kmsg.NewPtrApiVersionsRequest()
			av.Version, av.ClientSoftwareName, av.ClientSoftwareVersion = 3, "badinput", "1.0"
			reqs[i] = av
		}
		burst = append(burst, rawRequest(int32(i+1), reqs[i])...)
	}
	c.write(burst) // all of them before reading any answer
	var offset int64
	for i, req := range reqs {
		switch resp := c.receive(req, int32(i+1)).(type) {
		case *kmsg.ProduceResponse:
			if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != offset {
				t.Fatalf("produce %d: error %s at offset %d, want %d", i, errName(p.ErrorCode), p.BaseOffset, offset)
			}
			offset++
		case *kmsg.MetadataResponse:
			if len(resp.Brokers) != 1 || len(resp.Topics) != 1 {
				t.Fatalf("metadata %d: %d brokers, %d topics", i, len(resp.Brokers), len(resp.Topics))
			}
		case *kmsg.ApiVersionsResponse:
			if resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
				t.Fatalf("api versions %d: error %d", i, resp.ErrorCode)
			}
		}
	}
}
