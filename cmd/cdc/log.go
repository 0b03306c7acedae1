package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/ops"
)

func newLogCmd() *cobra.Command {
	var (
		q      ledger.Query
		since  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "log [--email E] [--key K] [--since T] [--limit N] [--json]",
		Short: "What did we send for this customer or order? Reads the delivery ledger",
		Long: "log prints, oldest first, the events Bento accepted as recorded in the delivery ledger\n" +
			"(config `ledger`: purchases by default, all, or off); when more than --limit match, the newest\n" +
			"--limit of them, and stderr says so. --key matches details.unique.key or the source row's key\n" +
			"(e.g. id=12345), and also returns the reconcile corrections that adjust that key (10~adj1 for 10).\n" +
			"--since takes a time (2026-01-02, RFC 3339) or a duration (24h).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if q.Since, err = parseSince(since, time.Now()); err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			pool, err := ops.OpenForBackfill(cmd.Context(), cfg, false)
			if err != nil {
				return err
			}
			defer pool.Close()
			page, err := ledger.FindPage(cmd.Context(), pool, cfg.Source.Schema, q)
			if err != nil {
				return err
			}
			// The notice goes to stderr only: --json output stays valid.
			defer truncatedNotice(cmd.ErrOrStderr(), page)
			if asJSON {
				return writeJSONLines(cmd.OutOrStdout(), page.Entries)
			}
			printLedger(cmd.OutOrStdout(), page.Entries)
			return nil
		},
	}
	cmd.Flags().StringVar(&q.Email, "email", "", "only this customer (case-insensitive)")
	cmd.Flags().StringVar(&q.Key, "key", "", "only this purchase key (details.unique.key) or row key, with the corrections that adjust it")
	cmd.Flags().StringVar(&since, "since", "", "only events accepted since this time or duration ago")
	cmd.Flags().IntVar(&q.Limit, "limit", ledger.DefaultLimit, "at most this many rows, the newest")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

// truncatedNotice tells, on stderr, that the limit left older rows out.
func truncatedNotice(w io.Writer, p ledger.Page) {
	if !p.More {
		return
	}
	fmt.Fprintf(w, "cdc log: showing the newest %d matching events; older ones exist: raise --limit to see them, "+
		"or narrow with --since, --email or --key\n", len(p.Entries))
}

// parseSince reads a time (RFC 3339 or a date) or a duration before now;
// "" is the beginning of time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: use a time (2026-01-02, 2026-01-02T15:04:05Z) or a duration (24h)", s)
}

func writeJSONLines[T any](w io.Writer, items []T) error {
	enc := json.NewEncoder(w)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			return err
		}
	}
	return nil
}

func printLedger(w io.Writer, entries []ledger.Entry) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "ACCEPTED\tORIGIN\tRULE\tTYPE\tEMAIL\tKEY\tAMOUNT\tPOSITION\tREQUEST")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Accepted.UTC().Format(time.RFC3339), e.Origin, e.Rule,
			e.Type, e.Email, keyOf(e), amountOf(e), deref(e.Position), e.Request)
	}
	if len(entries) == 0 {
		fmt.Fprintln(tw, "(nothing recorded)")
	}
}

func keyOf(e ledger.Entry) string {
	if e.UniqueKey != nil {
		return *e.UniqueKey
	}
	return e.RowKey
}

func amountOf(e ledger.Entry) string {
	if e.Amount == nil {
		return ""
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", *e.Amount, deref(e.Currency)))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
