package main

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// adminRun is the frame of a command that works through an admin client:
// it checks out's --format (out is nil for a command without one) before
// connecting, connects with cmd's context, runs fn, and closes the client
// when fn returns. Errors of each step are returned unchanged.
func (c *conn) adminRun(cmd *cobra.Command, out *output, fn func(ctx context.Context, adm *kadm.Client) error) error {
	if out != nil {
		if err := out.check(); err != nil {
			return err
		}
	}
	ctx := cmd.Context()
	adm, err := c.admin(ctx)
	if err != nil {
		return err
	}
	defer adm.Close()
	return fn(ctx, adm)
}
