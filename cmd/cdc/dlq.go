package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/ops"
)

func newDLQCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "List, replay or discard dead letters (rows a rule could not handle, events Bento rejected)",
	}
	cmd.AddCommand(newDLQListCmd(), newDLQReplayCmd(), newDLQDiscardCmd())
	return cmd
}

func newDLQListCmd() *cobra.Command {
	var asJSON bool
	var limit int
	var kind string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List dead letters, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			store, closeFn, err := ops.DeadLetters(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeFn()
			dls, err := store.List(cmd.Context(), bento.ListOptions{Kind: kind, Limit: limit})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), deadLettersJSON(dls))
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			defer tw.Flush()
			fmt.Fprintln(tw, "ID\tCREATED\tKIND\tRULE\tTABLE\tKEY\tSTATUS\tATTEMPTS\tREASON")
			for _, d := range dls {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, d.CreatedAt.Format("2006-01-02 15:04:05"),
					d.Kind, d.Rule, d.Table, d.Key, httpStatus(d.Status), d.Attempts, d.Reason)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON, with the event and change")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many")
	cmd.Flags().StringVar(&kind, "kind", "", "only this kind: rule or rejected")
	return cmd
}

// httpStatus is Bento's HTTP status of a rejected event's dead letter, "-"
// for one with none (a rule failure never reached Bento).
func httpStatus(status int) string {
	if status == 0 {
		return "-"
	}
	return strconv.Itoa(status)
}

func newDLQReplayCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "replay [ID...]",
		Short: "Re-send dead letters (all when no ID is given), in order; remove each once delivered",
		Long: "replay sends rejected events again as they are, and runs rows a rule could not handle through\n" +
			"the current rules again (fix the rule or the row first). Each dead letter is removed once what\n" +
			"it produces is delivered; one that fails again stays (or is replaced by a new dead letter).\n" +
			"Requests are paced by bento.requests_per_minute. While a syncer runs, the dead letters are handed\n" +
			"to it and sent through its own paced queue; the command waits until it has handled them. The running\n" +
			"syncer rebuilds rule dead letters with the rules it loaded at its start: restart it after editing the config.",
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, ids, err := configAndIDs(cmd, args)
			if err != nil {
				return err
			}
			log := newLogger(os.Stderr, cfg.Log.Level, "text")
			res, err := ops.ReplayNoting(cmd.Context(), cfg, log, version,
				func() { fmt.Fprintln(cmd.OutOrStdout(), ops.HandedOffNote) }, ids...)
			printReplay(cmd.OutOrStdout(), res)
			if err != nil {
				return err
			}
			if len(res.Failed) > 0 {
				return &exitError{code: exitProblem, err: fmt.Errorf("%d dead letters could not be replayed", len(res.Failed))}
			}
			return nil
		},
	}
}

func newDLQDiscardCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "discard ID... | --all",
		Short: "Remove dead letters without sending them",
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, ids, err := configAndIDs(cmd, args)
			if err != nil {
				return err
			}
			if len(ids) == 0 && !all {
				return fmt.Errorf("name the dead letters to discard, or --all")
			}
			store, closeFn, err := ops.DeadLetters(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeFn()
			if all {
				n, err := store.DeleteAll(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "discarded %d\n", n)
				return nil
			}
			if err := bento.Discard(cmd.Context(), store, ids...); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "discarded %d\n", len(ids))
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "discard every dead letter")
	return cmd
}

// configAndIDs loads --config and parses the dead-letter ids in args.
func configAndIDs(cmd *cobra.Command, args []string) (*config.Config, []int64, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	ids, err := parseIDs(args)
	return cfg, ids, err
}

func parseIDs(args []string) ([]int64, error) {
	ids := make([]int64, 0, len(args))
	for _, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("dead letter id %q: not a number", a)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// printReplay says how many dead letters were replayed and kept, and
// which: "replayed: 2 dead letters (ids 3, 7)", never a bare number that
// could be a count or an id.
func printReplay(w io.Writer, res bento.ReplayResult) {
	kept := make([]int64, len(res.Failed))
	for i, f := range res.Failed {
		kept[i] = f.ID
	}
	fmt.Fprintf(w, "replayed: %s\n", countIDs(res.Replayed))
	if len(kept) == 0 {
		return
	}
	fmt.Fprintf(w, "kept: %s\n", countIDs(kept))
	for _, f := range res.Failed {
		fmt.Fprintf(w, "  id %d: %s\n", f.ID, f.Reason)
	}
}

// countIDs is "0 dead letters", "1 dead letter (id 3)" or "2 dead letters
// (ids 3, 7)".
func countIDs(ids []int64) string {
	switch len(ids) {
	case 0:
		return "0 dead letters"
	case 1:
		return fmt.Sprintf("1 dead letter (id %d)", ids[0])
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return fmt.Sprintf("%d dead letters (ids %s)", len(ids), strings.Join(s, ", "))
}

// deadLetterJSON is one dead letter in `dlq list --json`: snake_case keys,
// like `status --json`.
type deadLetterJSON struct {
	ID          int64           `json:"id"`
	CreatedAt   time.Time       `json:"created_at"`
	Kind        string          `json:"kind"`
	Rule        string          `json:"rule"`
	Table       string          `json:"table"`
	Key         string          `json:"key"`
	Reason      string          `json:"reason"`
	Status      int             `json:"status"`
	Response    string          `json:"response"`
	Attempts    int             `json:"attempts"`
	CommitLSN   string          `json:"commit_lsn,omitempty"` // empty: no stream position (a reconcile repair)
	ChangeIndex int             `json:"change_index"`
	EventSub    int             `json:"event_sub"`
	Source      string          `json:"source"`
	Event       json.RawMessage `json:"event,omitempty"`
	Change      json.RawMessage `json:"change,omitempty"`
}

func deadLettersJSON(dls []bento.DeadLetter) []deadLetterJSON {
	out := make([]deadLetterJSON, len(dls))
	for i, d := range dls {
		lsn := ""
		if d.Pos.CommitLSN != 0 {
			lsn = d.Pos.CommitLSN.String()
		}
		out[i] = deadLetterJSON{ID: d.ID, CreatedAt: d.CreatedAt, Kind: d.Kind, Rule: d.Rule, Table: d.Table, Key: d.Key,
			Reason: d.Reason, Status: d.Status, Response: d.Response, Attempts: d.Attempts, CommitLSN: lsn,
			ChangeIndex: d.Pos.Index, EventSub: d.Pos.Sub, Source: d.Source, Event: d.Event, Change: d.Change}
	}
	return out
}
