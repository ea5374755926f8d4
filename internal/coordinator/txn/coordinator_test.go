package txn

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestCoordinator_AddOffsetsAfterInit(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("x")
	wantCode(t, "AddOffsetsToTxn", h.addOffsets("x", pid, epoch, 3), nil)
	_ = kerr.InvalidTxnState
}
