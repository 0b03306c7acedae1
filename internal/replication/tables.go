package replication

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgbento/cdc/internal/stream"
)

// SplitTable is stream.SplitTable with an error for a malformed name.
func SplitTable(t string) (schema, table string, err error) {
	schema, table, ok := stream.SplitTable(t)
	if !ok {
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
	if stream.IsPlainIdentifier(schema) && stream.IsPlainIdentifier(table) {
		return schema + "." + table
	}
	return pgx.Identifier{schema, table}.Sanitize()
}

// ReadableTables is ReadableTable of each of tables, comma-separated.
func ReadableTables(tables []string) string {
	readable := make([]string, len(tables))
	for i, t := range tables {
		readable[i] = ReadableTable(t)
	}
	return strings.Join(readable, ", ")
}

// quoteIdent renders one identifier (a schema, a role) for SQL an operator
// reads: plain lower-case names as they are, anything else quoted.
func quoteIdent(name string) string {
	if stream.IsPlainIdentifier(name) {
		return name
	}
	return pgx.Identifier{name}.Sanitize()
}
