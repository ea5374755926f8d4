package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultBootstrap is where client commands connect when neither
// --bootstrap-server nor BASKET_BROKERS says otherwise.
const defaultBootstrap = "localhost:9092"

// conn holds the connection flags every client command shares.
type conn struct {
	brokers []string
	timeout time.Duration
	tls     tlsFlags
}

// addConnFlags registers -b/--bootstrap-server (--brokers is an alias, see
// flagAliases) and
// --timeout as persistent flags of cmd, so its subcommands accept them.
// The default comes from BASKET_BROKERS (comma-separated) when it is set.
func addConnFlags(cmd *cobra.Command, c *conn) {
	def := []string{defaultBootstrap}
	if env := strings.TrimSpace(os.Getenv("BASKET_BROKERS")); env != "" {
		def = splitList(env)
	}
	fs := cmd.PersistentFlags()
	fs.StringSliceVarP(&c.brokers, "bootstrap-server", "b", def, "brokers to connect to, HOST:PORT[,HOST:PORT...] (env BASKET_BROKERS; alias --brokers)")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long to wait for a broker to connect and answer")
	addTLSFlags(cmd, &c.tls)
}

// withConnCommands gives the parent command cmd the connection flags and,
// as its subcommands, what subs make; the subcommands share one conn that
// the flags fill in.
func withConnCommands(cmd *cobra.Command, subs ...func(*conn) *cobra.Command) *cobra.Command {
	c := new(conn)
	addConnFlags(cmd, c)
	for _, sub := range subs {
		cmd.AddCommand(sub(c))
	}
	return cmd
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// client connects to the cluster and checks that a broker answers, so an
// unreachable cluster fails at once with one clear line. The caller closes
// the client.
func (c *conn) client(ctx context.Context, opts ...kgo.Opt) (*kgo.Client, error) {
	if len(c.brokers) == 0 {
		return nil, errors.New("no brokers given: use --bootstrap-server HOST:PORT")
	}
	if c.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive, got %v", c.timeout)
	}
	tlsCfg, err := c.tls.config()
	if err != nil {
		return nil, err
	}
	base := []kgo.Opt{
		kgo.SeedBrokers(c.brokers...),
		kgo.ClientID("basket-cli"),
		kgo.DialTimeout(c.timeout),
		kgo.RetryTimeout(c.timeout),
		kgo.MetadataMinAge(100 * time.Millisecond),
	}
	if tlsCfg != nil {
		base = append(base, kgo.DialTLSConfig(tlsCfg))
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		return nil, c.unreachable(err)
	}
	return cl, nil
}

// topicClient is client for a command on one existing topic: it fails with
// `topic "x" does not exist` unless the cluster has topic. The caller
// closes the client.
func (c *conn) topicClient(ctx context.Context, topic string, opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := c.client(ctx, opts...)
	if err != nil {
		return nil, err
	}
	if err := checkTopicExists(ctx, cl, topic); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// admin is client wrapped for admin requests.
func (c *conn) admin(ctx context.Context) (*kadm.Client, error) {
	cl, err := c.client(ctx)
	if err != nil {
		return nil, err
	}
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(c.timeout / time.Millisecond))
	return adm, nil
}

// unreachable turns a failed first contact into "cannot reach ADDRS:
// why", naming the brokers as given (localhost:9092, not the [::1]:9092 it
// resolved to); the reason is the last broker's.
func (c *conn) unreachable(err error) error {
	addr := strings.Join(c.brokers, ", ")
	var why string
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var recordHdr tls.RecordHeaderError
	switch {
	case errors.As(err, &unknownCA):
		why = "TLS: the broker's certificate is not signed by a trusted CA (see --tls-ca)"
	case errors.As(err, &badHost):
		why = "TLS: " + badHost.Error() + " (see --tls-server-name)"
	case errors.As(err, &certInvalid):
		why = "TLS: " + certInvalid.Error()
	case errors.As(err, &recordHdr):
		why = "TLS handshake failed: the broker does not speak TLS on this port"
	case errors.Is(err, syscall.ECONNREFUSED):
		why = "connection refused"
	case errors.As(err, &dns):
		why = "unknown host " + dns.Name
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		why = fmt.Sprintf("no answer within %v", c.timeout)
	case errors.Is(err, context.Canceled):
		return err
	default:
		why = err.Error()
		if strings.Contains(why, "tls: certificate required") {
			why += " (see --tls-cert and --tls-key)"
		}
	}
	return fmt.Errorf("cannot reach %s: %s", addr, why)
}

// kafkaErr words a Kafka error code for a one-line message: the code's name
// and, if the broker sent one, its message.
func kafkaErr(err error, msg string) error {
	if err == nil {
		return nil
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		if msg != "" && msg != ke.Description {
			return fmt.Errorf("%s: %s", ke.Message, msg)
		}
		return fmt.Errorf("%s: %s", ke.Message, ke.Description)
	}
	if msg != "" {
		return fmt.Errorf("%v: %s", err, msg)
	}
	return err
}

// topicErr words a per-topic error, naming the topic; an unknown topic
// reads `topic "x" does not exist`.
func topicErr(topic string, err error, msg string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, kerr.UnknownTopicID) {
		return fmt.Errorf("topic %q does not exist", topic)
	}
	return fmt.Errorf("topic %q: %w", topic, kafkaErr(err, msg))
}

// requireTopics checks that every topic exists, failing with the first
// missing one.
func requireTopics(ctx context.Context, adm *kadm.Client, topics ...string) (kadm.TopicDetails, error) {
	md, err := adm.Metadata(ctx, topics...)
	if err != nil {
		return nil, err
	}
	for _, t := range topics {
		d, ok := md.Topics[t]
		if !ok {
			return nil, fmt.Errorf("topic %q does not exist", t)
		}
		if d.Err != nil {
			return nil, topicErr(t, d.Err, "")
		}
	}
	return md.Topics, nil
}

// topicOffsets are topics' metadata and their partitions' log start and
// log end offsets.
type topicOffsets struct {
	details      kadm.TopicDetails
	starts, ends kadm.ListedOffsets
}

// listTopicOffsets checks that every topic exists, as requireTopics, and
// lists the log start and end offsets of their partitions.
func listTopicOffsets(ctx context.Context, adm *kadm.Client, topics ...string) (topicOffsets, error) {
	var o topicOffsets
	var err error
	if o.details, err = requireTopics(ctx, adm, topics...); err != nil {
		return o, err
	}
	if o.starts, err = adm.ListStartOffsets(ctx, topics...); err != nil {
		return o, err
	}
	if o.ends, err = adm.ListEndOffsets(ctx, topics...); err != nil {
		return o, err
	}
	return o, nil
}

// checkTopicExists fails with `topic "x" does not exist` unless the
// cluster has the topic.
func checkTopicExists(ctx context.Context, cl *kgo.Client, topic string) error {
	adm := kadm.NewClient(cl)
	_, err := requireTopics(ctx, adm, topic)
	return err
}

// adminOf wraps cl for admin requests; closing the result closes cl.
func adminOf(cl *kgo.Client) *kadm.Client { return kadm.NewClient(cl) }

// flush waits for every buffered record to be acknowledged or failed, also
// after ctx was cancelled (Ctrl-C), for at most timeout past the records'
// own delivery timeout.
func flush(ctx context.Context, cl *kgo.Client, timeout time.Duration) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*timeout)
	defer cancel()
	return cl.Flush(fctx)
}
