package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/ops"
)

func newSetupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "setup",
		Short: "Create the syncer's schema, the publication and the slot; print the SQL others must run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			res, err := ops.Setup(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(res.Ran) == 0 {
				fmt.Fprintln(w, "-- ran: nothing")
			} else {
				fmt.Fprintln(w, "-- ran:")
			}
			for _, sql := range res.Ran {
				fmt.Fprintln(w, sql)
			}
			for _, n := range res.Notes {
				fmt.Fprintln(w, "-- note:", n)
			}
			if len(res.Others) > 0 {
				fmt.Fprintln(w, "\n-- still to do, by someone with the privileges:")
				printFindings(w, res.Others)
			}
			if !ops.Runnable(res.Others) {
				return &exitError{code: exitProblem, err: fmt.Errorf("setup incomplete: see above")}
			}
			return nil
		},
	}
}
