package main

import (
	"fmt"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pgbento/cdc/internal/bento/bentofake"
	"github.com/pgbento/cdc/internal/demo"
)

func newDemoCmd() *cobra.Command {
	var duration time.Duration
	var rate float64
	var standIn string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run everything locally: throwaway Postgres, Bento stand-in, example rules, sample orders",
		Long: "demo needs no account and no config. It starts a throwaway Postgres from the local server\n" +
			"binaries (apt-get install -y postgresql), a local stand-in for Bento, loads examples/schema.sql\n" +
			"and examples/rules.yaml, writes sample customers and orders, and shows live what is delivered.\n" +
			"Ctrl-C stops it and removes everything it started.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if standIn != "" {
				ln, err := net.Listen("tcp", standIn)
				if err != nil {
					return &exitError{code: exitConfig, err: fmt.Errorf("listen on --stand-in %s: %w", standIn, err)}
				}
				return demo.StandIn(cmd.Context(), ln, cmd.OutOrStdout(), bentofake.New(bentofake.Options{}))
			}
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
	cmd.Flags().StringVar(&standIn, "stand-in", "", "serve only the Bento stand-in on this address (e.g. 127.0.0.1:8089) for a trial of cdc run against your own database")
	return cmd
}
