package rules

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgbento/cdc/internal/stream"
)

// Querier runs a lookup query. *pgxpool.Pool satisfies it; use a pool
// separate from the replication connection.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// lookup is a compiled Lookup.
type lookup struct {
	name string
	sql  string
	args []*vm.Program
	ttl  time.Duration
	path string
}

var (
	identifier  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	placeholder = regexp.MustCompile(`\$([0-9]+)`)
	// readOnlyStart is a cheap guard against a lookup that writes; the
	// syncer's user should still have only SELECT on these tables.
	readOnlyStart = regexp.MustCompile(`(?is)^\s*(select|with|values|table)\b`)
)

func (c *compiler) lookups(r *rule, m map[string]Lookup, path string) []*lookup {
	var out []*lookup
	for _, name := range sortedKeys(m) {
		sp, p := m[name], path+"."+name
		if !identifier.MatchString(name) {
			c.errorf(p, "lookup name %q must be an identifier (letters, digits, _)", name)
		}
		l := &lookup{name: name, sql: sp.SQL, ttl: sp.Cache, path: p}
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
		return nil, fmt.Errorf("lookup %s: %w: no database connection for lookups", l.name, ErrLookup)
	}
	key := cacheKey{l: l}
	if l.ttl > 0 {
		key.args = argsKey(args)
		if row, ok := e.cache.get(key); ok {
			return row, nil
		}
	}
	row, err := queryRow(ctx, e.q, l.sql, args)
	if err != nil {
		return nil, lookupError(l, err)
	}
	if l.ttl > 0 {
		e.cache.put(key, row, l.ttl)
	}
	return row, nil
}

// queryRow returns the first row as column -> value, or nil for no row.
func queryRow(ctx context.Context, q Querier, sql string, args []any) (map[string]any, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var row map[string]any
	if rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		row = make(map[string]any, len(vals))
		for i, fd := range rows.FieldDescriptions() {
			row[fd.Name] = fromPG(vals[i])
		}
	}
	rows.Close()
	return row, rows.Err()
}

// lookupError separates a problem with the row's data (a dead letter) from
// one with the database (retry the change): only a data exception, SQLSTATE
// class 22, depends on the row.
func lookupError(l *lookup, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") {
		return fmt.Errorf("%s: %s (SQLSTATE %s)", l.path, pgErr.Message, pgErr.Code)
	}
	return fmt.Errorf("lookup %s: %w: %w", l.name, ErrLookup, err)
}

// fromPG maps pgx's decoded values onto the stream's value conventions
// (doc_values.go), so expressions see one set of types whatever the source.
func fromPG(v any) any {
	switch x := v.(type) {
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case pgtype.Numeric:
		s, err := x.Value()
		if err != nil || s == nil {
			return nil
		}
		return stream.Numeric(s.(string))
	case [16]byte:
		return pgtype.UUID{Bytes: x, Valid: true}.String()
	}
	return v
}

// CheckLookups has the server plan every lookup query (EXPLAIN with null
// arguments, so nothing runs), so a missing table or column, a type error
// or a missing privilege is reported by check instead of holding the stream
// at run time. Problems come back as Errors naming rule and path; a
// connection problem as a plain error.
func (s *Set) CheckLookups(ctx context.Context, q Querier) error {
	var errs Errors
	for _, r := range s.rules {
		for _, l := range r.lookups {
			err := explain(ctx, q, l)
			var pgErr *pgconn.PgError
			switch {
			case err == nil:
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

func explain(ctx context.Context, q Querier, l *lookup) error {
	rows, err := q.Query(ctx, "EXPLAIN "+l.sql, make([]any, len(l.args))...)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	rows.Close()
	return rows.Err()
}
