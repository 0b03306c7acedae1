package stream

import (
	"fmt"
	"regexp"
	"strings"
)

// Names shared by every package: table names travel as "schema.table" (one
// qualifier, one identifier rule), config problems as FieldErrors.

// SplitTable splits "schema.table"; a bare "table" is in schema public. ok
// is false when name is not of either form (an empty part, or more dots).
func SplitTable(name string) (schema, table string, ok bool) {
	schema, table, found := strings.Cut(name, ".")
	if !found {
		schema, table = "public", name
	}
	if schema == "" || table == "" || strings.Contains(table, ".") {
		return "", "", false
	}
	return schema, table, true
}

// QualifyTable is name as "schema.table" (a bare name is in schema public);
// a name SplitTable rejects is returned unchanged.
func QualifyTable(name string) string {
	schema, table, ok := SplitTable(name)
	if !ok {
		return name
	}
	return schema + "." + table
}

// plainIdentifier is a lower-case SQL identifier that never needs quoting
// (at most 63 bytes, Postgres's NAMEDATALEN-1). Slot names are restricted
// to it by Postgres itself; the syncer holds its publication and schema
// names to it too, so they never need quoting in replication commands.
var plainIdentifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// IsPlainIdentifier reports whether name is a plain lower-case identifier.
func IsPlainIdentifier(name string) bool { return plainIdentifier.MatchString(name) }

// FieldError is one problem in the config file, located by its YAML path
// (e.g. "source.slot", "rules[2].event.email") and, in the rules section, by
// rule name, so the config loader can name the file and line without
// parsing the message. Every section's Validate reports these.
type FieldError struct {
	Rule string
	Path string
	Msg  string
}

func (e *FieldError) Error() string {
	if e.Rule == "" {
		return e.Path + ": " + e.Msg
	}
	return fmt.Sprintf("rule %q: %s: %s", e.Rule, e.Path, e.Msg)
}
