package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/api"
	"github.com/basketmq/basket/internal/wire"
)

// maxInFlight bounds the requests of one connection that are waiting
// (for fsync, for fetch data) or whose responses are queued.
const maxInFlight = 100

// partsResponse is a response that encodes itself as buffers and file
// regions (fetch).
type partsResponse interface {
	Parts(correlationID int32, flexibleHeader bool) []wire.Part
}

// conn serves one client connection.
type conn struct {
	b      *Broker
	nc     net.Conn
	resp   *wire.Responder
	ctx    context.Context
	cancel context.CancelFunc
	logger *slog.Logger
	once   sync.Once
	waits  sync.WaitGroup
}

func newConn(b *Broker, nc net.Conn) *conn {
	c := &conn{b: b, nc: nc, resp: wire.NewResponder(maxInFlight), logger: b.logger.With("remote", nc.RemoteAddr().String())}
	c.ctx, c.cancel = context.WithCancel(b.ctx)
	return c
}

func (c *conn) close() {
	c.once.Do(func() {
		c.cancel()
		c.resp.Close()
		c.nc.Close()
	})
}

// serve reads requests until the client leaves or breaks the protocol.
func (c *conn) serve() {
	defer c.waits.Wait()
	defer c.close()
	c.waits.Add(1)
	go func() {
		defer c.waits.Done()
		if err := c.resp.Run(c.nc); err != nil && !errors.Is(err, wire.ErrClosed) && c.ctx.Err() == nil {
			c.logger.Debug("writing responses", "err", err)
		}
		c.close()
	}()
	frames := wire.NewFrameReader(bufio.NewReaderSize(c.nc, 64<<10), c.b.cfg.MaxRequestBytes)
	frames.UsePool(&c.b.frames)
	for {
		// Each request gets its own buffer: decoded requests alias it
		// (produce records) while their handlers run. Produce frames go
		// back to the broker's pool once appended (see request).
		frame, err := frames.Next(nil)
		if err != nil {
			if !errors.Is(err, io.EOF) && c.ctx.Err() == nil {
				c.logger.Warn("closing connection: bad frame", "err", err)
			}
			return
		}
		if !c.request(frame) {
			return
		}
	}
}

// request handles one frame; false closes the connection.
func (c *conn) request(frame []byte) bool {
	h, body, err := wire.ParseRequestHeader(frame)
	key, version := h.APIKey, h.APIVersion
	if key == 18 && (errors.Is(err, wire.ErrUnsupportedVersion) || err == nil && !api.Supported(key, version)) {
		// KIP-511: answer a too-new ApiVersions with v0 and our range.
		return c.respond(h.CorrelationID, false, api.UnsupportedVersions(), nil)
	}
	if err != nil {
		c.logger.Warn("closing connection: bad request header", "api_key", key, "version", version, "err", err)
		return false
	}
	if !api.Supported(key, version) {
		c.logger.Warn("closing connection: unsupported request", "api", kmsg.NameForKey(key), "api_key", key, "version", version)
		return false
	}
	if err := api.CheckRequest(key, version, body); err != nil {
		c.logger.Warn("closing connection: request refused before decoding", "api", kmsg.NameForKey(key), "version", version, "err", err)
		return false
	}
	req := kmsg.RequestForKey(key)
	req.SetVersion(version)
	if err := req.ReadFrom(body); err != nil {
		c.logger.Warn("closing connection: request does not decode", "api", kmsg.NameForKey(key), "version", version, "err", err)
		return false
	}
	ctx := c.ctx
	if key == 11 { // JoinGroup records the member's client id and host
		ctx = api.WithClient(ctx, string(h.ClientID), clientHost(c.nc.RemoteAddr()))
	}
	resp, wait, err := c.b.handlers.Handle(ctx, req)
	if key == 0 {
		// Produce is done with its records once the first phase returns:
		// they were appended (copied to the log) or refused, and neither
		// the response nor the wait refers to them (kmsg copies strings).
		req.(*kmsg.ProduceRequest).Topics = nil
		c.b.frames.Put(frame)
	}
	if err != nil {
		if !errors.Is(err, api.ErrCloseConnection) {
			c.logger.Warn("closing connection", "api", kmsg.NameForKey(key), "err", err)
		}
		return false
	}
	return c.respond(h.CorrelationID, wire.ResponseHeaderFlexible(key, version), resp, wait)
}

// respond queues the answer in request order: at once, or when wait
// finishes.
func (c *conn) respond(correlationID int32, flexible bool, resp kmsg.Response, wait api.Wait) bool {
	slot, err := c.resp.Reserve(c.ctx)
	if err != nil {
		return false
	}
	if wait == nil {
		c.finish(slot, correlationID, flexible, resp)
		return true
	}
	c.waits.Add(1)
	go func() {
		defer c.waits.Done()
		resp, err := wait(c.ctx)
		if err != nil {
			slot.Drop()
			c.close()
			return
		}
		c.finish(slot, correlationID, flexible, resp)
	}()
	return true
}

func (c *conn) finish(slot *wire.Slot, correlationID int32, flexible bool, resp kmsg.Response) {
	if resp == nil { // acks=0
		slot.Drop()
		return
	}
	if pr, ok := resp.(partsResponse); ok { // fetch: record data from files
		slot.CompleteParts(pr.Parts(correlationID, flexible))
		return
	}
	slot.Complete(wire.AppendResponse(nil, correlationID, flexible, resp))
}

// clientHost is a client's address as Kafka shows it in group
// descriptions: "/" and the IP.
func clientHost(addr net.Addr) string {
	if host, _, err := net.SplitHostPort(addr.String()); err == nil {
		return "/" + host
	}
	return "/" + addr.String()
}
