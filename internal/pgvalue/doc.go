// Package pgvalue owns the syncer's value conventions: how a Postgres
// value in text form becomes the Go value a rule sees (the types are listed
// in internal/stream/doc_values.go), and the session settings under which
// Postgres writes those text forms. The replication stream, a backfill's
// snapshot reads and a rule's lookups all decode through it, so a rule sees
// the same value for the same data wherever it came from.
package pgvalue
