package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/internal/rules"
)

// Severity of a Finding.
type Severity string

const (
	SevError Severity = "error" // the syncer cannot run (or would be wrong)
	SevWarn  Severity = "warn"  // it runs, but something will surprise you
	SevOK    Severity = "ok"    // a state worth showing
)

// Finding is one line of `cdc check`.
type Finding struct {
	Severity Severity `json:"severity"`
	What     string   `json:"what"`
	Fix      string   `json:"fix,omitempty"`
	// SQL someone with the right privileges can run to fix it.
	SQL string `json:"sql,omitempty"`
}

// Runnable reports whether no finding is an error.
func Runnable(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == SevError {
			return false
		}
	}
	return true
}

// Check inspects the live database for everything the config needs and
// returns every finding at once. It changes nothing.
func Check(ctx context.Context, cfg *config.Config) ([]Finding, error) {
	conn, err := pgx.Connect(ctx, cfg.Source.DSN)
	if err != nil {
		return []Finding{{Severity: SevError, What: "cannot connect to the source database: " + err.Error(),
			Fix: "check source.dsn, that the server is up, and pg_hba.conf allows this host"}}, nil
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return checkConn(ctx, conn, cfg)
}

// checkConn is Check on an open connection.
func checkConn(ctx context.Context, conn *pgx.Conn, cfg *config.Config) ([]Finding, error) {
	var fs []Finding
	for _, p := range replication.Preflight(ctx, conn, cfg.Source.Config) {
		fs = append(fs, Finding{Severity: SevError, What: p.What, Fix: p.Fix})
	}
	steps := []func(context.Context, *pgx.Conn, *config.Config) ([]Finding, error){
		checkColumns, checkLookups, checkReplicaIdentity, checkPublication, checkSlot, checkSchema,
	}
	for _, step := range steps {
		more, err := step(ctx, conn, cfg)
		if err != nil {
			return nil, err
		}
		fs = append(fs, more...)
	}
	return fs, nil
}

func checkColumns(ctx context.Context, conn *pgx.Conn, cfg *config.Config) ([]Finding, error) {
	cols, err := replication.LiveColumns(ctx, conn, cfg.Compiled.Tables())
	if err != nil {
		return nil, err
	}
	return ruleFindings(cfg, cfg.Compiled.CheckSchema(cols), "fix the rule or the table")
}

// checkLookups has the server plan every lookup query, so a wrong table,
// column or privilege shows up now rather than as a stalled stream.
func checkLookups(ctx context.Context, conn *pgx.Conn, cfg *config.Config) ([]Finding, error) {
	return ruleFindings(cfg, cfg.Compiled.CheckLookups(ctx, conn), "fix the lookup's SQL or grant SELECT on what it reads")
}

// ruleFindings turns rules.Errors into findings; any other error is
// returned as is.
func ruleFindings(cfg *config.Config, err error, fix string) ([]Finding, error) {
	if err == nil {
		return nil, nil
	}
	var list rules.Errors
	if !errors.As(err, &list) {
		return nil, err
	}
	var fs []Finding
	for _, e := range list {
		fs = append(fs, Finding{Severity: SevError, What: fmt.Sprintf("%s:%d: rule %q: %s: %s", cfg.File, cfg.Line(e.Path), e.Rule, e.Path, e.Msg), Fix: fix})
	}
	return fs, nil
}

// checkReplicaIdentity warns where a rule reads old values but the table
// will only send the key: such rules see old.<col> as missing.
func checkReplicaIdentity(ctx context.Context, conn *pgx.Conn, cfg *config.Config) ([]Finding, error) {
	var fs []Finding
	for _, table := range cfg.Compiled.Tables() {
		readers := cfg.Compiled.ReadsOld(table)
		if len(readers) == 0 {
			continue
		}
		ident, err := replication.ReplicaIdentity(ctx, conn, table)
		if err != nil || ident == "" {
			continue // a missing table is reported by preflight
		}
		if ident != "f" {
			fs = append(fs, Finding{Severity: SevWarn,
				What: fmt.Sprintf("table %s has REPLICA IDENTITY %s but rules %s read old values", table, identityName(ident), strings.Join(readers, ", ")),
				Fix:  "without FULL, old.<column> is only known for key columns; transitions such as pending -> paid cannot be seen",
				SQL:  fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL;", replication.ReadableTable(table))})
		}
	}
	return fs, nil
}

func identityName(code string) string {
	switch code {
	case "d":
		return "DEFAULT"
	case "n":
		return "NOTHING"
	case "i":
		return "USING INDEX"
	}
	return "FULL"
}

func checkPublication(ctx context.Context, conn *pgx.Conn, cfg *config.Config) ([]Finding, error) {
	name, tables := cfg.Source.Publication, cfg.Compiled.Tables()
	pub, err := replication.ReadPublication(ctx, conn, name)
	if err != nil {
		return nil, err
	}
	if !pub.Exists {
		return []Finding{{Severity: SevWarn, What: fmt.Sprintf("publication %q does not exist", name),
			Fix: "cdc setup (or the first cdc run) creates it", SQL: fmt.Sprintf("CREATE PUBLICATION %s FOR TABLE %s;", name, readableList(tables))}}, nil
	}
	missing, err := replication.NotPublished(ctx, conn, name, tables)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return []Finding{{Severity: SevWarn, What: fmt.Sprintf("publication %q lacks tables %s", name, strings.Join(missing, ", ")),
			Fix: "cdc setup (or the first cdc run) adds them", SQL: fmt.Sprintf("ALTER PUBLICATION %s ADD TABLE %s;", name, readableList(missing))}}, nil
	}
	return []Finding{{Severity: SevOK, What: fmt.Sprintf("publication %q covers %s", name, strings.Join(tables, ", "))}}, nil
}

func readableList(tables []string) string {
	q := make([]string, len(tables))
	for i, t := range tables {
		q[i] = replication.ReadableTable(t)
	}
	return strings.Join(q, ", ")
}

func checkSlot(ctx context.Context, conn *pgx.Conn, cfg *config.Config) ([]Finding, error) {
	st, err := replication.ReadSlot(ctx, conn, cfg.Source.Slot)
	if err != nil {
		return nil, err
	}
	switch {
	case st == nil:
		return []Finding{{Severity: SevWarn, What: fmt.Sprintf("replication slot %q does not exist", cfg.Source.Slot),
			Fix: "cdc setup (or the first cdc run) creates it"}}, nil
	case st.Plugin != "pgoutput":
		return []Finding{{Severity: SevError, What: fmt.Sprintf("slot %q uses plugin %q, not pgoutput", cfg.Source.Slot, st.Plugin),
			Fix: "drop it or choose another source.slot", SQL: fmt.Sprintf("SELECT pg_drop_replication_slot('%s');", cfg.Source.Slot)}}, nil
	case st.WALStatus == "lost":
		return []Finding{{Severity: SevError, What: fmt.Sprintf("slot %q has lost WAL it needs (max_slot_wal_keep_size exceeded)", cfg.Source.Slot),
			Fix: "drop the slot, let cdc recreate it, and backfill to recover what was missed",
			SQL: fmt.Sprintf("SELECT pg_drop_replication_slot('%s');", cfg.Source.Slot)}}, nil
	}
	f := Finding{Severity: SevOK, What: fmt.Sprintf("slot %q exists (confirmed flush %s, %d bytes behind, active=%v)",
		cfg.Source.Slot, st.ConfirmedFlush, st.LagBytes, st.Active)}
	return []Finding{f}, nil
}

// checkSchema reports whether the syncer's own schema is in place.
func checkSchema(ctx context.Context, conn *pgx.Conn, cfg *config.Config) ([]Finding, error) {
	exists, err := replication.SchemaExists(ctx, conn, cfg.Source.Schema)
	if err != nil || exists {
		return nil, err
	}
	return []Finding{{Severity: SevWarn, What: fmt.Sprintf("the syncer's schema %q is not set up", cfg.Source.Schema),
		Fix: "cdc setup (or the first cdc run) creates it; the role needs CREATE on the database"}}, nil
}
