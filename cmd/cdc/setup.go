package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/pipeline"
)

func newSetupCmd() *cobra.Command {
	var resync bool
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Create the syncer's schema, the publication and the slot; print the SQL others must run",
		Long: "setup creates what the syncer needs and prints the SQL it ran and the SQL others must run.\n" +
			"--resync closes the gap a lost slot left (no syncer may run): it re-creates the slot and sends\n" +
			"the current state of every table a rule reads on snapshot, from the new slot's snapshot.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if resync {
				return runResync(cmd, cfg)
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
	cmd.Flags().BoolVar(&resync, "resync", false, "re-create a lost slot and re-send current state from its snapshot")
	return cmd
}

func runResync(cmd *cobra.Command, cfg *config.Config) error {
	if err := ops.CheckResync(cmd.Context(), cfg); err != nil {
		return &exitError{code: exitProblem, err: err}
	}
	log := newLogger(os.Stderr, cfg.Log.Level, cfg.Log.Format)
	if err := pipeline.Resync(cmd.Context(), cfg, pipeline.Options{Logger: log, Version: version}); err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), "resync done: new slot created and current state sent; start cdc run, then cdc reconcile to prove the purchases")
	return nil
}
