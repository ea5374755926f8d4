package server

// Interop with kafkajs (2.2.4), a client that knows only the classic
// transaction protocol (InitProducerId v1, AddPartitionsToTxn v1, EndTxn
// v1) and ignores the transaction.version feature: the script in
// test/interop/kafkajs commits, aborts and commits a transaction, commits
// an offset inside the first (AddOffsetsToTxn, TxnOffsetCommit), then
// reads the topic with read_committed and read_uncommitted consumers. The
// test skips without node or without `npm install` having been run in that
// directory (.ci/run does it).

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// kafkajsDir is the directory of the kafkajs scripts and their
// node_modules.
const kafkajsDir = "../../test/interop/kafkajs"

// requireKafkajs skips the test unless node and the kafkajs package are
// installed.
func requireKafkajs(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	if _, err := os.Stat(filepath.Join(kafkajsDir, "node_modules", "kafkajs")); err != nil {
		t.Skipf("kafkajs not installed (npm install --prefix %s)", kafkajsDir)
	}
	return node
}

func TestKafkajs_TransactionsAndReadCommitted(t *testing.T) {
	node := requireKafkajs(t)
	b := startBroker(t, txnTestConfig(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "js-txn", 2)
	// kafkajs 2.2.4 names error 14 GROUP_LOAD_IN_PROGRESS but retries
	// TxnOffsetCommit only on "COORDINATOR_LOAD_IN_PROGRESS", so it gives
	// up if the group's __consumer_offsets partition is still loading (as
	// it is right after the topic's creation, against Kafka as well). kgo
	// retries the load: once it fetches the group's offsets, the
	// coordinator is up.
	if _, err := adm.FetchOffsets(ctxT(t), "js-offsets"); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "txn.js", b.Addr().String(), "js-txn")
	cmd.Dir = kafkajsDir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node txn.js: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	var res struct {
		Committed   []string `json:"committed"`
		Uncommitted []string `json:"uncommitted"`
	}
	line := ""
	for l := range strings.SplitSeq(string(out), "\n") {
		if rest, ok := strings.CutPrefix(l, "RESULT "); ok {
			line = rest
		}
	}
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("kafkajs output %q: %v\nstderr:\n%s", out, err, stderr.String())
	}
	if want := []string{"c1-0", "c1-1", "c1-2", "c3-0", "c3-1", "c3-2"}; !slices.Equal(res.Committed, want) {
		t.Errorf("read_committed saw %v, want %v", res.Committed, want)
	}
	if want := []string{"a2-0", "a2-1", "a2-2", "c1-0", "c1-1", "c1-2", "c3-0", "c3-1", "c3-2"}; !slices.Equal(res.Uncommitted, want) {
		t.Errorf("read_uncommitted saw %v, want %v", res.Uncommitted, want)
	}
	offs, err := adm.FetchOffsets(ctxT(t), "js-offsets")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup("js-txn", 0); !ok || o.At != 3 {
		t.Errorf("offset committed in the transaction: %+v (found %v), want 3", o, ok)
	}
}
