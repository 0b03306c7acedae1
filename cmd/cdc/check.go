package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/ops"
)

func newCheckCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the config and the live database; list every problem with its fix",
		Long: "check validates the config file, then the database: wal_level, privileges, tables and the\n" +
			"columns the rules use, replica identity where rules read old values, publication, slot and\n" +
			"free slots. Exit code 0: runnable; 2: the config file is invalid; 3: the database is not ready.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			fs, err := ops.Check(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), fs); err != nil {
					return err
				}
			} else {
				printFindings(cmd.OutOrStdout(), fs)
			}
			if !ops.Runnable(fs) {
				return &exitError{code: exitProblem, err: fmt.Errorf("not runnable: fix the errors above")}
			}
			if !asJSON {
				fmt.Fprintln(cmd.OutOrStdout(), "runnable: yes")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print findings as JSON")
	return cmd
}

func printFindings(w io.Writer, fs []ops.Finding) {
	for _, f := range fs {
		fmt.Fprintf(w, "%-5s %s\n", f.Severity, f.What)
		if f.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", f.Fix)
		}
		if f.SQL != "" {
			fmt.Fprintf(w, "      sql: %s\n", f.SQL)
		}
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
