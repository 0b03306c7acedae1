package replication

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// SplitTable splits "schema.table"; a bare "table" is in schema public.
func SplitTable(t string) (schema, table string, err error) {
	schema, table, ok := strings.Cut(t, ".")
	if !ok {
		schema, table = "public", t
	}
	if schema == "" || table == "" || strings.Contains(table, ".") {
		return "", "", fmt.Errorf("table %q: want schema.table", t)
	}
	return schema, table, nil
}

// QuoteTable quotes "schema.table" for SQL the syncer runs.
func QuoteTable(t string) (string, error) {
	schema, table, err := SplitTable(t)
	if err != nil {
		return "", err
	}
	return pgx.Identifier{schema, table}.Sanitize(), nil
}

// ReadableTable renders "schema.table" for SQL an operator reads and runs:
// plain lower-case names as they are, anything else quoted.
func ReadableTable(t string) string {
	schema, table, err := SplitTable(t)
	if err != nil {
		return t
	}
	if ident.MatchString(schema) && ident.MatchString(table) {
		return schema + "." + table
	}
	return pgx.Identifier{schema, table}.Sanitize()
}
