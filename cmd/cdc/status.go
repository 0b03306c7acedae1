package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/ops"
)

func newStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show slot lag, checkpoint, last delivery, dead letters and backfills",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			st, err := ops.ReadStatus(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), st)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			defer tw.Flush()
			if st.Slot == nil {
				fmt.Fprintf(tw, "slot\t%s: missing (cdc setup creates it)\n", cfg.Source.Slot)
			} else {
				fmt.Fprintf(tw, "slot\t%s (active=%v, wal_status=%s)\n", cfg.Source.Slot, st.Slot.Active, st.Slot.WALStatus)
				fmt.Fprintf(tw, "lag\t%d bytes, %.1f s (server WAL at %s, confirmed %s)\n", st.Slot.LagBytes, st.LagSeconds, st.Slot.CurrentWAL, st.Slot.ConfirmedFlush)
				fmt.Fprintf(tw, "retained WAL\t%d bytes (the slot keeps it until confirmed)\n", st.Slot.RetainedBytes)
			}
			if st.Checkpoint == nil {
				fmt.Fprintln(tw, "checkpoint\tnone yet")
			} else {
				c := st.Checkpoint
				fmt.Fprintf(tw, "checkpoint\tcommit %s end %s change %d event %d\n", c.CommitLSN, c.EndLSN, c.Index, c.Sub)
				fmt.Fprintf(tw, "last delivery\t%s (%s ago)\n", c.UpdatedAt.Format(time.RFC3339), time.Since(c.UpdatedAt).Round(time.Second))
			}
			if r := st.Syncer; r != nil {
				fmt.Fprintf(tw, "syncer\tready=%v: %s\n", r.Ready, r.Reason)
				if r.DeliveryRetrying != "" {
					fmt.Fprintf(tw, "delivery\tretrying %s\n", r.DeliveryRetrying)
				}
			}
			fmt.Fprintf(tw, "dead letters\t%d\n", st.DeadLetters)
			if r := st.Reconcile; r != nil {
				fmt.Fprintf(tw, "last reconcile\t%s (dry run=%v): %d cents of drift across %d customers, %d repaired\n",
					r.Finished.Format(time.RFC3339), r.DryRun, r.DriftCents, r.Customers, r.Repaired)
			}
			for _, b := range st.Backfills {
				fmt.Fprintf(tw, "backfill %s\t%d rows, done=%v%s\n", b.Table, b.RowsDone, b.Done, goneNote(b.Gone))
			}
			for _, r := range st.Requests {
				fmt.Fprintf(tw, "backfill request %d\t%s %s (%s): %d rows, %d events, %d left to the stream\n",
					r.ID, r.Table, r.State, r.Origin, r.RowsDone, r.Events, r.Dropped)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// goneNote marks a backfill row whose table no longer exists by that name.
func goneNote(gone bool) string {
	if gone {
		return " (no table has this name now: renamed or dropped)"
	}
	return ""
}
