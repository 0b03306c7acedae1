package main

import (
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pgbento/cdc/internal/demo"
)

func newDemoCmd() *cobra.Command {
	var duration time.Duration
	var rate float64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run everything locally: throwaway Postgres, Bento stand-in, example rules, sample orders",
		Long: "demo needs no account and no config. It starts a throwaway Postgres from the local server\n" +
			"binaries (apt-get install -y postgresql), a local stand-in for Bento, loads examples/schema.sql\n" +
			"and examples/rules.yaml, writes sample customers and orders, and shows live what is delivered.\n" +
			"Ctrl-C stops it and removes everything it started.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return demo.Run(cmd.Context(), demo.Options{
				Out:      cmd.OutOrStdout(),
				Logger:   newLogger(os.Stderr, "warn", "text"),
				Duration: duration,
				Rate:     rate,
				Clear:    term.IsTerminal(int(os.Stdout.Fd())),
				Version:  version,
			})
		},
	}
	cmd.Flags().DurationVar(&duration, "duration", 0, "run the sample load this long once the syncer streams, then stop (default: until Ctrl-C)")
	cmd.Flags().Float64Var(&rate, "rate", 5, "sample writes per second")
	return cmd
}
