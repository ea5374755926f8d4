package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topic is the benchmark topic every broker gets, freshly created.
const topic = "bench"

// brokerSpec names one broker configuration the tool can start.
type brokerSpec struct {
	name  string
	about string
	// kfakeMode is the mode handed to the kfake child (see kfakechild.go);
	// empty means the broker is Basket.
	kfakeMode string
	// overrides are basket serve --override values for Basket brokers.
	overrides []string
}

var brokerSpecs = []brokerSpec{
	{name: "basket", about: "Basket, basket.log.flush.policy=sync: fsync before ack, group commit (the default)",
		overrides: []string{"basket.log.flush.policy=sync"}},
	{name: "basket-async", about: "Basket, basket.log.flush.policy=async: ack from the page cache, like Kafka",
		overrides: []string{"basket.log.flush.policy=async"}},
	{name: "kfake-sync", about: "kfake DataDir+SyncWrites: fsync of segment and index after every batch", kfakeMode: "sync"},
	{name: "kfake-disk", about: "kfake DataDir: files in the page cache, no fsync", kfakeMode: "disk"},
	{name: "kfake-mem", about: "kfake default: every batch kept on the Go heap", kfakeMode: "mem"},
	{name: "kfake-blackhole", about: "kfake BlackholeProduce: acks without storing (protocol + client ceiling)", kfakeMode: "blackhole"},
}

func lookupSpec(name string) *brokerSpec {
	for i := range brokerSpecs {
		if brokerSpecs[i].name == name {
			return &brokerSpecs[i]
		}
	}
	return nil
}

// env is what starting brokers needs from the run: where things go and
// which binaries to execute.
type env struct {
	opts      *options
	dir       string // the run's temporary directory, removed at the end
	basketBin string
	selfBin   string // this program, re-executed as the kfake child
	starts    int    // numbers data directories and logs
}

// broker is one running broker child process. Its data directory belongs
// to it and is removed by stop.
type broker struct {
	spec       *brokerSpec
	partitions int
	addr       string
	dataDir    string
	logPath    string
	cmd        *exec.Cmd
	exited     chan struct{} // closed once the process has been waited for
	waitErr    error         // valid after exited is closed
}

// startBroker starts spec as a child process on a free loopback port, waits
// until it answers, and creates the benchmark topic. On error nothing is
// left running.
func startBroker(ctx context.Context, e *env, spec *brokerSpec) (*broker, error) {
	e.starts++
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	b := &broker{
		spec: spec, partitions: e.opts.partitions,
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited: make(chan struct{}),
	}
	base := fmt.Sprintf("%02d-%s", e.starts, spec.name)
	b.dataDir = filepath.Join(e.dir, base+"-data")
	b.logPath = filepath.Join(e.dir, base+".log")
	if err := os.Mkdir(b.dataDir, 0o755); err != nil {
		return nil, err
	}
	if spec.kfakeMode == "" {
		args := []string{"serve", "--listen", b.addr, "--data-dir", b.dataDir}
		for _, o := range append(append([]string(nil), spec.overrides...), e.opts.basketOverrides...) {
			args = append(args, "--override", o)
		}
		b.cmd = exec.Command(e.basketBin, args...)
	} else {
		b.cmd = exec.Command(e.selfBin, kfakeChildArg, "-port", strconv.Itoa(port), "-mode", spec.kfakeMode, "-data-dir", b.dataDir)
	}
	logFile, err := os.Create(b.logPath)
	if err != nil {
		os.RemoveAll(b.dataDir)
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	b.cmd.Stdout, b.cmd.Stderr = logFile, logFile
	// Its own process group keeps a terminal's Ctrl-C away from the child
	// (we stop it ourselves); Pdeathsig kills it if we die without doing so.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(b.dataDir)
		return nil, fmt.Errorf("starting %s: %w", spec.name, err)
	}
	go func() {
		b.waitErr = b.cmd.Wait()
		close(b.exited)
	}()
	if err := b.ready(ctx); err != nil {
		b.stop()
		return nil, fmt.Errorf("%s did not come up: %w%s", spec.name, err, b.logTail())
	}
	return b, nil
}

// ready waits until the broker accepts connections and has created the
// topic with the configured number of partitions.
func (b *broker) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for {
		err := b.createTopic(ctx, adm)
		if err == nil {
			return nil
		}
		select {
		case <-b.exited:
			return fmt.Errorf("exited (%v)", b.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("%w; last error: %v", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (b *broker) createTopic(ctx context.Context, adm *kadm.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := adm.CreateTopic(ctx, int32(b.partitions), 1, nil, topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return err
	}
	if resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		return resp.Err
	}
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return err
	}
	if err := details[topic].Err; err != nil {
		return err
	}
	if got := len(details[topic].Partitions); got != b.partitions {
		return fmt.Errorf("topic %s has %d partitions, want %d", topic, got, b.partitions)
	}
	return nil
}

// memory reads the broker's VmRSS and VmHWM.
func (b *broker) memory() (Memory, error) { return readMemory(b.cmd.Process.Pid) }

// alive reports an error if the broker process has exited.
func (b *broker) alive() error {
	select {
	case <-b.exited:
		return fmt.Errorf("%s exited during the phase (%v)%s", b.spec.name, b.waitErr, b.logTail())
	default:
		return nil
	}
}

// stop asks the broker to shut down, kills it after 30 s, and removes its
// data directory. It is safe to call more than once.
func (b *broker) stop() {
	select {
	case <-b.exited:
	default:
		b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(30 * time.Second):
			fmt.Fprintf(os.Stderr, "bench: %s ignored SIGTERM for 30s, killing pid %d\n", b.spec.name, b.cmd.Process.Pid)
			b.cmd.Process.Kill()
			<-b.exited
		}
	}
	if err := os.RemoveAll(b.dataDir); err != nil {
		fmt.Fprintf(os.Stderr, "bench: removing %s: %v\n", b.dataDir, err)
	}
	// Write back whatever the broker left dirty, so it does not slow the
	// next run down.
	syscall.Sync()
}

// logTail returns the end of the broker's log, for error messages.
func (b *broker) logTail() string {
	data, err := os.ReadFile(b.logPath)
	if err != nil || len(data) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	lines = lines[max(0, len(lines)-15):]
	return "\n  " + b.spec.name + " log (" + b.logPath + ") ends:\n    " + strings.Join(lines, "\n    ")
}

// freePort asks the kernel for an unused loopback port. Another process
// could take it before the broker binds it; on this machine that is rare
// enough, and startBroker fails loudly if it happens.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
