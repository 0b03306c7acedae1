package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgbento/cdc/internal/pgvalue"
	"github.com/pgbento/cdc/internal/stream"
)

// Querier begins the transactions lookups run in. *pgxpool.Pool and
// *pgx.Conn satisfy it; use a pool separate from the replication connection.
type Querier interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// lookup is a compiled Lookup.
type lookup struct {
	name    string
	rule    string // the rule's name, for errors: two rules may name lookups alike
	sql     string
	args    []*vm.Program
	ttl     time.Duration
	timeout time.Duration // statement_timeout and lock_timeout of each run
	begin   string        // the transaction's begin with them (beginReadOnly)
	path    string
}

// DefaultLookupTimeout bounds one lookup when defaults.lookup_timeout is
// not set: a lookup blocked behind a lock must not hold the stream silently.
const DefaultLookupTimeout = 5 * time.Second

// ErrLookupTimeout marks a lookup the server cancelled at lookup_timeout
// (statement or lock timeout). It also wraps ErrLookup: retry the change.
var ErrLookupTimeout = errors.New("lookup timed out")

var (
	identifier  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	placeholder = regexp.MustCompile(`\$([0-9]+)`)
	// readOnlyStart is a cheap first guard against a lookup that writes;
	// the real guards are the read-only transaction every lookup runs in
	// and check's look at its plan (issue 15.9). The syncer's user should
	// still have only SELECT on these tables.
	readOnlyStart = regexp.MustCompile(`(?is)^\s*(select|with|values|table)\b`)
)

// lookupTimeout defaults and checks defaults.lookup_timeout.
func (c *compiler) lookupTimeout(d Defaults) Defaults {
	switch {
	case d.LookupTimeout == 0:
		d.LookupTimeout = DefaultLookupTimeout
	case d.LookupTimeout < time.Millisecond:
		c.errorf("defaults.lookup_timeout", "lookup_timeout must be at least 1ms")
	}
	return d
}

func (c *compiler) lookups(r *rule, d Defaults, m map[string]Lookup, path string) []*lookup {
	var out []*lookup
	for _, name := range sortedKeys(m) {
		sp, p := m[name], path+"."+name
		if !identifier.MatchString(name) {
			c.errorf(p, "lookup name %q must be an identifier (letters, digits, _)", name)
		}
		l := &lookup{name: name, rule: r.name, sql: sp.SQL, ttl: sp.Cache, timeout: d.LookupTimeout,
			begin: beginReadOnly(d.LookupTimeout), path: p}
		c.checkSQL(sp, p)
		for i, a := range sp.Args {
			l.args = append(l.args, c.expression(r, a, fmt.Sprintf("%s.args[%d]", p, i), false))
		}
		out = append(out, l)
	}
	return out
}

// checkSQL checks that the placeholders are $1..$n with one arg each, so a
// value can only ever reach the query as a bound parameter.
func (c *compiler) checkSQL(sp Lookup, path string) {
	if strings.TrimSpace(sp.SQL) == "" {
		c.errorf(path+".sql", "sql is required")
		return
	}
	if !readOnlyStart.MatchString(sp.SQL) {
		c.errorf(path+".sql", "a lookup must be a query (select, with, values or table)")
	}
	if sp.Cache < 0 {
		c.errorf(path+".cache", "cache must not be negative")
	}
	used := map[int]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(sp.SQL, -1) {
		n, _ := strconv.Atoi(m[1])
		used[n] = true
	}
	for n := 1; n <= len(used); n++ {
		if !used[n] {
			c.errorf(path+".sql", "placeholders must be $1..$%d without gaps; $%d is missing", len(used), n)
			return
		}
	}
	if len(used) != len(sp.Args) {
		c.errorf(path+".args", "sql has %d placeholders ($1..$%d) but %d args are given", len(used), len(used), len(sp.Args))
	}
}

// runLookups fills env.lookup for r. A missing row is a nil entry, so
// lookup.x == nil holds and lookup.x.col is an error.
func (e *Evaluator) runLookups(ctx context.Context, r *rule) error {
	clear(e.env.Lookup)
	e.noRow = e.noRow[:0]
	for _, l := range r.lookups {
		args := make([]any, len(l.args))
		for i, p := range l.args {
			v, err := e.run(p)
			if err == nil {
				v, err = queryArg(v)
			}
			if err != nil {
				return fmt.Errorf("%s.args[%d]: %w", l.path, i, err)
			}
			args[i] = v
		}
		row, err := e.lookupRow(ctx, l, args)
		if err != nil {
			return err
		}
		if row == nil {
			// An untyped nil: a nil map in an interface would not be == nil
			// in expressions, and lookup.x.col would quietly be null.
			e.env.Lookup[l.name] = nil
			e.noRow = append(e.noRow, l.name)
			continue
		}
		e.env.Lookup[l.name] = row
	}
	return nil
}

func queryArg(v any) (any, error) {
	switch x := v.(type) {
	case stream.Numeric:
		return string(x), nil
	case []any, map[string]any:
		return nil, fmt.Errorf("a lookup argument must be a scalar, got %T", v)
	}
	if stream.IsUnchanged(v) {
		return nil, errUnchangedValue
	}
	return v, nil
}

func (e *Evaluator) lookupRow(ctx context.Context, l *lookup, args []any) (map[string]any, error) {
	if e.q == nil {
		return nil, fmt.Errorf("lookup %s of rule %q: %w: no database connection for lookups", l.name, l.rule, ErrLookup)
	}
	key := cacheKey{l: l}
	if l.ttl > 0 {
		key.args = argsKey(args)
		if row, ok := e.cache.get(key); ok {
			return row, nil
		}
	}
	row, err := queryRow(ctx, e.q, e.values, l, args)
	if err != nil {
		return nil, lookupError(l, err)
	}
	if l.ttl > 0 {
		e.cache.put(key, row, l.ttl)
	}
	return row, nil
}

// queryRow returns the first row as column -> value, or nil for no row. It
// runs in a read-only transaction with the lookup's timeouts, rolled back
// at the end: a lookup cannot write (not even through a CTE or a function),
// cannot wait for a lock for ever, and leaves no setting behind. The row
// comes back in text form and is decoded by values under
// pgvalue.FormatSettings, exactly as the stream decodes a column: a date is
// "2026-11-30", infinity is "infinity", an interval its text, whatever
// the source of the value.
func queryRow(ctx context.Context, q Querier, values pgvalue.Decoder, l *lookup, args []any) (map[string]any, error) {
	var row map[string]any
	err := readOnly(ctx, q, l.begin, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, l.sql, append([]any{pgx.QueryResultFormats{pgx.TextFormatCode}}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		if rows.Next() {
			raw, fields := rows.RawValues(), rows.FieldDescriptions()
			row = make(map[string]any, len(raw))
			for i, fd := range fields {
				row[fd.Name] = nil
				if raw[i] != nil {
					row[fd.Name] = values.Value(fd.DataTypeOID, raw[i])
				}
			}
		}
		rows.Close()
		return rows.Err()
	})
	return row, err
}

// beginReadOnly begins a read-only transaction whose statements are
// cancelled by the server after timeout, or when they wait that long for a
// lock, and whose values are written in the text forms pgvalue reads: one
// round trip (simple protocol, several statements), built once per lookup.
func beginReadOnly(timeout time.Duration) string {
	ms := max(timeout.Milliseconds(), 1)
	begin := fmt.Sprintf("BEGIN READ ONLY; SET LOCAL statement_timeout = %d; SET LOCAL lock_timeout = %d", ms, ms)
	for _, kv := range pgvalue.FormatSettings() {
		begin += fmt.Sprintf("; SET LOCAL %s = '%s'", kv[0], kv[1])
	}
	return begin
}

// readOnly runs f in a transaction begun with begin (beginReadOnly).
func readOnly(ctx context.Context, q Querier, begin string, f func(pgx.Tx) error) error {
	tx, err := q.BeginTx(ctx, pgx.TxOptions{BeginQuery: begin})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	return f(tx)
}

// lookupError separates a problem with the row's data (a dead letter) from
// one with the database (retry the change): only a data exception, SQLSTATE
// class 22, depends on the row. A timeout is retried too, and marked so it
// can be counted.
func lookupError(l *lookup, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") {
		return fmt.Errorf("%s: %s (SQLSTATE %s)", l.path, pgErr.Message, pgErr.Code)
	}
	if isTimeout(pgErr) {
		return fmt.Errorf("lookup %s of rule %q: %w: %w after %s (defaults.lookup_timeout): %s (SQLSTATE %s)",
			l.name, l.rule, ErrLookup, ErrLookupTimeout, l.timeout, pgErr.Message, pgErr.Code)
	}
	return fmt.Errorf("lookup %s of rule %q: %w: %w", l.name, l.rule, ErrLookup, err)
}

// isTimeout is the server's statement timeout (query_canceled, 57014) or
// lock timeout (lock_not_available, 55P03).
func isTimeout(pgErr *pgconn.PgError) bool {
	return pgErr != nil && (pgErr.Code == "57014" || pgErr.Code == "55P03")
}

// CheckLookups has the server plan every lookup query (EXPLAIN with null
// arguments, so nothing runs) in a read-only transaction, so a missing
// table or column, a type error, a missing privilege or a statement that
// writes (an UPDATE in a CTE: the plan has a ModifyTable node) is reported
// by check instead of failing at run time. Problems come back as Errors
// naming rule and path; a connection problem as a plain error.
func (s *Set) CheckLookups(ctx context.Context, q Querier) error {
	var errs Errors
	for _, r := range s.rules {
		for _, l := range r.lookups {
			msg, err := explain(ctx, q, l)
			var pgErr *pgconn.PgError
			switch {
			case err == nil && msg == "":
			case err == nil:
				errs = append(errs, &FieldError{Rule: r.name, Path: l.path + ".sql", Msg: msg})
			case errors.As(err, &pgErr):
				errs = append(errs, &FieldError{Rule: r.name, Path: l.path + ".sql",
					Msg: fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)})
			default:
				return fmt.Errorf("check lookup %s of rule %q: %w", l.name, r.name, err)
			}
		}
	}
	return errs.orNil()
}

// explain plans l read-only and returns what is wrong with the plan ("" when
// nothing is).
func explain(ctx context.Context, q Querier, l *lookup) (string, error) {
	var plan []byte
	err := readOnly(ctx, q, l.begin, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+l.sql, make([]any, len(l.args))...).Scan(&plan)
	})
	if err != nil {
		return "", err
	}
	var top []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &top); err != nil {
		return "", fmt.Errorf("read the plan: %w", err)
	}
	for _, t := range top {
		if op := t.Plan.writes(); op != "" {
			return fmt.Sprintf("a lookup must only read, but this one would %s rows (planned in a read-only transaction); "+
				"at run time it would fail and hold the stream", strings.ToUpper(op)), nil
		}
	}
	return "", nil
}

// planNode is the part of EXPLAIN (FORMAT JSON) that shows writes.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Operation string     `json:"Operation"`
	Plans     []planNode `json:"Plans"`
}

// writes returns the operation of the first ModifyTable node in the tree
// (Insert, Update, Delete, Merge), or "".
func (n planNode) writes() string {
	if n.NodeType == "ModifyTable" {
		return n.Operation
	}
	for _, c := range n.Plans {
		if op := c.writes(); op != "" {
			return op
		}
	}
	return ""
}
