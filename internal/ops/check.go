package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/internal/rules"
	"github.com/pgbento/cdc/migrations"
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
	db, err := openTarget(ctx, cfg)
	if err != nil {
		return []Finding{{Severity: SevError, What: "cannot connect to the source database: " + err.Error(),
			Fix: "check source.dsn, that the server is up, and pg_hba.conf allows this host"}}, nil
	}
	defer db.close()
	return db.check(ctx)
}

// target is one open connection to the source database (and a pool on it,
// for the checkpoint store) with the config it is checked against.
type target struct {
	cfg     *config.Config
	pool    *pgxpool.Pool
	pc      *pgxpool.Conn
	conn    *pgx.Conn
	preflit bool // preflight found nothing
}

func openTarget(ctx context.Context, cfg *config.Config) (*target, error) {
	pool, err := pgxpool.New(ctx, cfg.Source.DSN)
	if err != nil {
		return nil, errors.New("invalid connection string") // the error may quote the DSN
	}
	pc, err := pool.Acquire(ctx)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &target{cfg: cfg, pool: pool, pc: pc, conn: pc.Conn()}, nil
}

func (t *target) close() {
	t.pc.Release()
	t.pool.Close()
}

// preflight is replication.Preflight as findings.
func (t *target) preflight(ctx context.Context) []Finding {
	var fs []Finding
	for _, p := range replication.Preflight(ctx, t.conn, t.cfg.Source.Config) {
		fs = append(fs, Finding{Severity: SevError, What: p.What, Fix: p.Fix, SQL: p.SQL})
	}
	t.preflit = len(fs) == 0
	return fs
}

// check is Check on an open target.
func (t *target) check(ctx context.Context) ([]Finding, error) {
	fs := t.preflight(ctx)
	more, err := runSteps(ctx, t.checkColumns, t.checkGenerated, t.checkCents, t.checkLookups, t.checkReplicaIdentity,
		t.checkSchema, t.checkPublication, t.checkSlot)
	return append(fs, more...), err
}

// runSteps runs each check step and returns every finding, or the first
// error.
func runSteps(ctx context.Context, steps ...func(context.Context) ([]Finding, error)) ([]Finding, error) {
	var fs []Finding
	for _, step := range steps {
		more, err := step(ctx)
		if err != nil {
			return nil, err
		}
		fs = append(fs, more...)
	}
	return fs, nil
}

func (t *target) checkColumns(ctx context.Context) ([]Finding, error) {
	cfg := t.cfg
	cols, err := replication.LiveColumns(ctx, t.conn, cfg.Compiled.Tables())
	if err != nil {
		return nil, err
	}
	return ruleFindings(cfg, cfg.Compiled.CheckSchema(cols), "fix the rule or the table")
}

// checkGenerated reports rules that read a generated column while
// streaming: pgoutput never sends one (issue 10.2).
func (t *target) checkGenerated(ctx context.Context) ([]Finding, error) {
	cols, err := replication.TableColumns(ctx, t.conn, t.cfg.Compiled.Tables())
	if err != nil {
		return nil, err
	}
	gen := replication.GeneratedColumns(cols)
	return ruleFindings(t.cfg, t.cfg.Compiled.CheckGenerated(gen), "compute the value in the expression or read it through a lookup")
}

// checkLookups has the server plan every lookup query, so a wrong table,
// column or privilege shows up now rather than as a stalled stream.
func (t *target) checkLookups(ctx context.Context) ([]Finding, error) {
	return ruleFindings(t.cfg, t.cfg.Compiled.CheckLookups(ctx, t.conn), "fix the lookup's SQL or grant SELECT on what it reads")
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

// checkReplicaIdentity: where a rule reads old values but the table only
// sends the key, every update the rule sees becomes a dead letter that no
// replay can fix (the stored change has no old row), so it is an error. A
// partitioned table's partitions send their own old rows: each one lacking
// FULL is its own finding.
func (t *target) checkReplicaIdentity(ctx context.Context) ([]Finding, error) {
	cfg, conn := t.cfg, t.conn
	var fs []Finding
	for _, table := range cfg.Compiled.Tables() {
		readers := cfg.Compiled.ReadsOld(table)
		if len(readers) == 0 {
			continue
		}
		idents, err := replication.ReplicaIdentities(ctx, conn, table)
		if err != nil {
			return nil, err
		}
		for _, id := range idents { // none for a missing table: preflight reports it
			if id.Ident != "f" {
				fs = append(fs, identityFinding(table, id, readers))
			}
		}
	}
	return fs, nil
}

// identityFinding is the error for one table (or partition of table)
// without REPLICA IDENTITY FULL.
func identityFinding(table string, id replication.IdentityOf, readers []string) Finding {
	what := fmt.Sprintf("table %s has REPLICA IDENTITY %s but rules %s read old values", id.Table, identityName(id.Ident), strings.Join(readers, ", "))
	if id.Table != table {
		what = fmt.Sprintf("partition %s of %s has REPLICA IDENTITY %s but rules %s read old values", id.Table, table, identityName(id.Ident), strings.Join(readers, ", "))
	}
	return Finding{Severity: SevError, What: what,
		Fix: "without FULL, old.<column> is only known for key columns: each update those rules see becomes a dead letter " +
			"that cannot be replayed (the change carries no old row); run the SQL as the table's owner",
		SQL: fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL;", replication.ReadableTable(id.Table))}
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

func (t *target) checkSlot(ctx context.Context) ([]Finding, error) {
	cfg := t.cfg
	if f, err := t.checkContinuity(ctx); f != nil || err != nil {
		return f, err
	}
	st, err := replication.ReadSlot(ctx, t.conn, cfg.Source.Slot)
	if err != nil {
		return nil, err
	}
	switch {
	case st == nil && cfg.Backfill.OnCreate:
		// What cdc setup says too: the slot is run's, with its snapshot.
		return []Finding{{Severity: SevOK, What: fmt.Sprintf("replication slot %q does not exist yet: with backfill.on_create "+
			"the first cdc run creates it and backfills the existing rows from its snapshot", cfg.Source.Slot)}}, nil
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

// checkContinuity: when the stored checkpoint cannot be continued from (its
// slot is gone, or it is ahead of the server's WAL), setup and run refuse;
// check says the same thing (replication.CheckContinuity).
func (t *target) checkContinuity(ctx context.Context) ([]Finding, error) {
	st, err := migrations.Inspect(ctx, t.conn, t.cfg.Source.Schema)
	if err != nil || !st.Current() {
		return nil, err
	}
	if err := replication.CheckSlot(ctx, t.pool, t.cfg.Source.Config); replication.IsSlotLost(err) {
		return []Finding{{Severity: SevError, What: err.Error(),
			Fix: "cdc setup --resync (no syncer running), or source.on_slot_lost: resync; README \"A lost slot\""}}, nil
	} else if err != nil {
		return nil, err
	}
	if err := replication.CheckContinuity(ctx, t.pool, t.cfg.Source.Config); err != nil {
		return []Finding{{Severity: SevError, What: err.Error(),
			Fix: "see the README's troubleshooting: what changed since the checkpoint must be backfilled"}}, nil
	}
	return nil, nil
}

// CheckRules checks the rules against the live schema only: columns, the
// types cents() converts and the lookups. preview runs it first, so a typo
// is an error there as in check, not a null on every row.
func CheckRules(ctx context.Context, cfg *config.Config) ([]Finding, error) {
	db, err := openTarget(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer db.close()
	return runSteps(ctx, db.checkColumns, db.checkCents, db.checkLookups)
}
