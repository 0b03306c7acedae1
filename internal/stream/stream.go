// Package stream holds the domain types that flow between the syncer's
// packages: LSNs, positions, row changes, Bento events and the items the
// delivery side acknowledges. It depends on the standard library only, so
// replication, rules and bento can all import it without importing each
// other.
//
// The data flow is replication -> rules -> bento. Replication produces
// Changes; rules turn each Change into zero or more Events (or a Failure);
// bento delivers Items in order and acknowledges their Positions back,
// strictly in order, to the checkpointer owned by replication.
//
// It also holds the names every package shares: the one table-name
// qualifier, the one identifier rule and the FieldError every config
// section reports (names.go). It does not own any behaviour: decoding,
// evaluation, delivery and persistence belong to the packages above.
package stream

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LSN is a Postgres write-ahead log position.
type LSN uint64

// String formats the LSN the way Postgres does ("16/B374D848").
func (l LSN) String() string {
	return fmt.Sprintf("%X/%X", uint32(l>>32), uint32(l))
}

// ParseLSN parses the "XXX/XXX" text form of an LSN.
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("parse lsn %q: missing '/'", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("parse lsn %q: %w", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("parse lsn %q: %w", s, err)
	}
	return LSN(h<<32 | l), nil
}

// Position identifies a point in the stream of events.
//
// CommitLSN names the transaction (the LSN of its commit record, which is
// unique and grows in commit order); EndLSN is the end of that commit record,
// the LSN after which restarting cannot replay the transaction. Index is the
// change's index within the transaction (0-based). Sub counts events of that
// change: on an Event it is the event's ordinal + 1, so acknowledging the
// event's Position means "changes before Index and the first Sub events of
// change Index are done". A commit marker has Index equal to the number of
// changes in the transaction (a partition move merged into one update
// counts twice: internal/replication/partmove.go) and Sub 0: the whole
// transaction is done.
//
// Positions compare in stream order with Less.
type Position struct {
	CommitLSN LSN
	EndLSN    LSN
	Index     int
	Sub       int
}

// Less reports whether p comes before q in stream order.
func (p Position) Less(q Position) bool {
	if p.CommitLSN != q.CommitLSN {
		return p.CommitLSN < q.CommitLSN
	}
	if p.Index != q.Index {
		return p.Index < q.Index
	}
	return p.Sub < q.Sub
}

// IsZero reports whether p is the zero position (nothing acknowledged yet).
func (p Position) IsZero() bool { return p == Position{} }

func (p Position) String() string {
	return fmt.Sprintf("%s#%d.%d", p.CommitLSN, p.Index, p.Sub)
}

// Op is the kind of a Change.
type Op uint8

const (
	OpInsert   Op = iota + 1 // a row was inserted
	OpUpdate                 // a row was updated
	OpDelete                 // a row was deleted
	OpTruncate               // one or more tables were truncated (Change.Tables)
	OpMessage                // a logical decoding message (pg_logical_emit_message)
	OpCommit                 // the end of a transaction: a marker with no row
	OpSnapshot               // an existing row read by a backfill, not from the WAL
)

var opNames = [...]string{"", "insert", "update", "delete", "truncate", "message", "commit", "snapshot"}

func (o Op) String() string {
	if int(o) < len(opNames) && o > 0 {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// ParseOp parses an operation name as written in a rule file.
func ParseOp(s string) (Op, bool) {
	for i, n := range opNames {
		if i > 0 && n == s {
			return Op(i), true
		}
	}
	return 0, false
}

// unchanged is the type of Unchanged.
type unchanged struct{}

func (unchanged) String() string { return "<unchanged toast>" }

// Unchanged is the value of a column that Postgres did not send because it is
// an unchanged TOASTed value and no old row was available to fill it in. It is
// never the same as NULL (nil): the value exists but is unknown to the syncer.
var Unchanged any = unchanged{}

// IsUnchanged reports whether v is the Unchanged marker.
func IsUnchanged(v any) bool {
	_, ok := v.(unchanged)
	return ok
}

// Unrepresentable is the value of a column the syncer could not turn into
// the Go type doc_values.go assigns to it, although Postgres accepted it
// (JSON nested deeper than Go's decoder allows, a date beyond time.Time).
// It stands in for the value so that only the rules that read the column
// fail; Reason says what the decoder met.
type Unrepresentable struct{ Reason string }

func (u Unrepresentable) String() string { return "<unrepresentable: " + u.Reason + ">" }

// AsUnrepresentable reports whether v is an Unrepresentable marker.
func AsUnrepresentable(v any) (Unrepresentable, bool) {
	u, ok := v.(Unrepresentable)
	return u, ok
}

// Row is one tuple, column name to typed Go value. NULL is nil; an unknown
// unchanged TOAST value is Unchanged; a value the syncer cannot hold is
// Unrepresentable. Numeric columns are exact decimal
// strings' typed form (see replication), never float64.
type Row map[string]any

// Change is one decoded item of the replication stream (or, with OpSnapshot,
// one existing row read by a backfill).
type Change struct {
	Pos   Position // Sub: events of this change already acknowledged; skip that many on replay
	Op    Op
	Table string   // schema-qualified, e.g. "public.orders"; empty for commit and message
	Key   []string // primary key (replica identity) column names, in order
	// Columns are the columns the table's changes carry, in order, from the
	// latest Relation message (shared, never modified); nil when unknown, as
	// for a backfill's rows. A column the rules read that is not here was
	// renamed, dropped, or is generated (pgoutput does not send those).
	Columns    []string
	New        Row      // insert, update, snapshot: the new row
	Old        Row      // update, delete: the old row when the server sent one (nil otherwise)
	OldIsKey   bool     // Old holds only the replica identity key columns
	Tables     []string // truncate: the truncated tables
	Prefix     string   // message: the logical message prefix
	Content    []byte   // message: the logical message content
	CommitTime time.Time
	Xid        uint32
	// QueuedBytes is what the change holds of the change queue's byte
	// budget (set by the reader, released by the consumer when done).
	QueuedBytes int64
}

// KeyString renders the change's primary key as "col=value,col=value" for
// dead letters and logs.
func (c *Change) KeyString() string {
	row := c.New
	if row == nil {
		row = c.Old
	}
	b := make([]byte, 0, 32)
	for i, k := range c.Key {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, k...)
		b = append(b, '=')
		switch v := row[k].(type) { // the common key types without fmt: this runs for every event
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case string:
			b = append(b, v...)
		case Numeric:
			b = append(b, v...)
		default:
			b = fmt.Append(b, v)
		}
	}
	return string(b)
}

// Event is one Bento event produced by a rule from a change.
type Event struct {
	Pos    Position // the change's position with Sub = ordinal of this event + 1
	Rule   string   // the rule that produced it
	Table  string   // the source table
	Key    string   // the source row's key (Change.KeyString)
	Source string   // webhook source segment ("generic", "pos", ...)
	Type   string
	Email  string
	// NewEmail is the new address of a TypeChangeEmail event (Email is the
	// old one); empty for every other type.
	NewEmail string
	Fields   map[string]any // flat
	Details  map[string]any // nested
	Date     time.Time      // zero: no date sent
	// Committed is when the source transaction committed (for latency metrics).
	Committed time.Time
}

// TypeChangeEmail is the event type of Bento's change_email command: it
// moves the subscriber at Email to NewEmail, so later events for NewEmail
// land on the same person. It is delivered as a command, not as an event.
const TypeChangeEmail = "$change_email"

// TypeUpdateFields is Bento's event that sets a subscriber's custom fields
// (bento.coalesce_fields merges consecutive ones for one subscriber).
const TypeUpdateFields = "$update_fields"

// Failure is a change that a rule could not turn into an event. It is
// dead-lettered in order with the events around it.
type Failure struct {
	Pos    Position
	Rule   string
	Table  string
	Key    string
	Reason string
	Change []byte // the change as JSON, for the operator and for replay
	Event  []byte // the partial event as JSON, when there was one
	// IdentityGap: the change lacks, for good, a value the rule reads (the
	// replica identity kept it out), so no replay can handle it.
	IdentityGap bool
}

// ItemKind says what an Item carries.
type ItemKind uint8

const (
	ItemEvent   ItemKind = iota + 1 // deliver Event
	ItemFailure                     // dead-letter Failure
	ItemMark                        // nothing to deliver: acknowledge Pos once everything before it is done
)

// Item is one unit of work handed to the delivery side. Items are
// acknowledged strictly in the order they were handed over.
type Item struct {
	Kind    ItemKind
	Pos     Position
	Event   *Event
	Failure *Failure
}

// AckFunc is called by the delivery side, in order, with the position of
// every item whose event was delivered or durably dead-lettered.
type AckFunc func(Position)

// Numeric is an exact decimal value (a Postgres numeric) in its canonical
// text form, e.g. "19.99", "-3", "NaN". It never passes through float64.
type Numeric string

// MarshalJSON writes finite numerics as JSON numbers and the rest as strings.
func (n Numeric) MarshalJSON() ([]byte, error) {
	s := string(n)
	if _, err := strconv.ParseFloat(s, 64); err != nil || strings.ContainsAny(s, "nNiI") {
		return []byte(strconv.Quote(s)), nil
	}
	return []byte(s), nil
}
