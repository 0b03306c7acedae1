package replication

import (
	"errors"
	"fmt"

	"github.com/jackc/pglogrepl"

	"github.com/pgbento/cdc/internal/pgvalue"
	"github.com/pgbento/cdc/internal/stream"
)

// heartbeatPrefix marks the reader's own logical messages; they keep the
// slot moving and are never emitted.
const heartbeatPrefix = "cdc_heartbeat"

// decodeError is a message or value the reader cannot decode. It is
// permanent: reconnecting would only meet the same bytes again.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "decode pgoutput: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// decoder turns pgoutput messages (protocol version 1) into Changes. It is
// pure over bytes: it holds the relation cache and the current transaction,
// never a connection, so it can be table-tested and fuzzed.
//
// Every Insert, Update, Delete, Truncate and transactional Message gets the
// next Index within its transaction; Commit yields an OpCommit marker whose
// Index is the number of changes. Row changes carry EndLSN 0 because the end
// of the transaction is only known at Commit.
type decoder struct {
	rels   map[uint32]*relation
	values pgvalue.Decoder
	rows   rowParser     // the row messages' parser; its messages live until the next decode
	cur    stream.Change // what decode returns: one Change reused, not one allocated per message
	inTx   bool
	tx     stream.Change // Pos.CommitLSN, CommitTime and Xid of the open transaction
	count  int           // changes decoded so far in the open transaction
	// rowEach is the eachChange of the relation of the row change the
	// current message decoded (row sets it).
	rowEach func()
	// primaryKey, when set, names a table's primary key columns. With
	// REPLICA IDENTITY FULL every column is flagged as identity, so the
	// flags alone would make a change's Key the whole row.
	primaryKey func(relID uint32) []string
	// identify, when set, names the watched table a relation stands for
	// (Reader.identify: partitions and renamed tables, by relation OID),
	// and what to do when a change first arrives under that relation and
	// at each change (nil: nothing). A Relation message alone proves
	// nothing: with publish_via_partition_root, PG15's pgoutput also sends
	// one for the partition while its changes arrive under the root's.
	identify func(relID uint32, table string) (identified, error)
	// baseTypes, when set, returns a relation's column types with each
	// domain replaced by its base type (Reader.baseTypes, see domains.go).
	baseTypes func(table string, oids []uint32) ([]uint32, error)
	// moveKey, when set, names a partitioned table's move key columns
	// (Reader.moveKey, see partmove.go); nil: the table's DELETE and INSERT
	// pairs are never merged.
	moveKey  func(relID uint32, table string) (move, part []string, err error)
	held     heldDelete    // a DELETE that may be half of a partition move
	released stream.Change // the held DELETE once it is emitted after all
	out      []decoded     // what decode returns, reused
}

// decoded is a change decode completes, with the eachChange of its
// relation (nil: none, or not a row change). The session calls each once
// the change is emitted, so a change the server sends again after a
// reconnect, already emitted before, counts once.
type decoded struct {
	ch   *stream.Change
	each func()
}

func newDecoder() *decoder {
	return &decoder{rels: make(map[uint32]*relation), values: pgvalue.New(), out: make([]decoded, 0, 2)}
}

// decode consumes one pgoutput message and returns the changes it
// completes, in stream order: usually its own Change; none for Begin,
// Relation, Type, Origin, non-transactional messages, heartbeats and a
// DELETE held as the possible first half of a partition move; the held
// DELETE first, then its own, for the message after a DELETE that turned
// out to be no move (partmove.go). The Changes are the decoder's own and
// valid until the next decode: the session copies them into the change
// queue.
func (d *decoder) decode(data []byte) ([]decoded, error) {
	msg, err := d.parse(data)
	if err != nil {
		return nil, &decodeError{err}
	}
	d.out, d.rowEach = d.out[:0], nil
	ch, err := d.apply(msg)
	var ce *catalogError
	if errors.As(err, &ce) {
		return nil, err // the database, not the bytes: worth another attempt
	}
	if err != nil {
		return nil, &decodeError{err}
	}
	if ch != nil {
		d.out = append(d.out, decoded{ch, d.rowEach})
	}
	return d.out, nil
}

// parse is parseMessage with the row messages parsed by d.rows.
func (d *decoder) parse(data []byte) (pglogrepl.Message, error) {
	if len(data) == 0 || checkBounds(data) != nil {
		return parseMessage(data) // for its error
	}
	if msg, ok := d.rows.parse(data); ok {
		return msg, nil
	}
	return parseMessage(data)
}

// parseMessage is pglogrepl.Parse made safe for arbitrary bytes: pglogrepl
// indexes its input without bounds checks and allocates by declared lengths,
// so a short or corrupt message would panic or exhaust memory instead of
// returning an error.
func parseMessage(data []byte) (msg pglogrepl.Message, err error) {
	if len(data) == 0 {
		return nil, errors.New("empty message")
	}
	if err := checkBounds(data); err != nil {
		return nil, fmt.Errorf("malformed %q message: %w", data[0], err)
	}
	defer func() {
		if p := recover(); p != nil {
			msg, err = nil, fmt.Errorf("malformed %q message: %v", data[0], p)
		}
	}()
	return pglogrepl.Parse(data)
}

func (d *decoder) apply(msg pglogrepl.Message) (*stream.Change, error) {
	if d.held.rel != nil && !d.keepsHeld(msg) {
		d.release()
	}
	switch m := msg.(type) {
	case *pglogrepl.BeginMessage:
		return nil, d.begin(m)
	case *pglogrepl.CommitMessage:
		return d.commit(m)
	case *pglogrepl.RelationMessage:
		return nil, d.relation(m)
	case *pglogrepl.InsertMessage:
		if d.held.rel != nil { // keepsHeld: it completes the move
			return d.move(m)
		}
		return d.row(stream.OpInsert, m.RelationID, 0, nil, m.Tuple)
	case *pglogrepl.UpdateMessage:
		return d.row(stream.OpUpdate, m.RelationID, m.OldTupleType, m.OldTuple, m.NewTuple)
	case *pglogrepl.DeleteMessage:
		ch, err := d.row(stream.OpDelete, m.RelationID, m.OldTupleType, m.OldTuple, nil)
		if err != nil || d.hold(ch, m) {
			return nil, err
		}
		return ch, nil
	case *pglogrepl.TruncateMessage:
		return d.truncate(m)
	case *pglogrepl.LogicalDecodingMessage:
		return d.message(m)
	}
	return nil, nil // Type and Origin carry nothing we use
}

// relation replaces the cache entry of a Relation message's table, with
// the catalog facts resolved once for all its rows.
func (d *decoder) relation(m *pglogrepl.RelationMessage) error {
	rel := newRelation(m)
	name := rel.table
	if err := d.resolveDomains(rel); err != nil {
		return err
	}
	if d.identify != nil {
		id, err := d.identify(m.RelationID, rel.table)
		if err != nil {
			return err
		}
		rel.table, rel.firstChange, rel.eachChange = id.table, id.first, id.each
	}
	if m.ReplicaIdentity == 'f' && d.primaryKey != nil {
		if pk := d.primaryKey(m.RelationID); len(pk) > 0 {
			rel.key = pk
		}
	}
	if err := d.resolveMoveKey(m.RelationID, rel, name); err != nil {
		return err
	}
	d.describedAgain(m.RelationID, rel)
	d.rels[m.RelationID] = rel
	return nil
}

func (d *decoder) begin(m *pglogrepl.BeginMessage) error {
	if d.inTx {
		return errors.New("begin inside a transaction")
	}
	d.inTx, d.count = true, 0
	d.tx = stream.Change{Pos: stream.Position{CommitLSN: stream.LSN(m.FinalLSN)}, CommitTime: m.CommitTime, Xid: m.Xid}
	return nil
}

func (d *decoder) commit(m *pglogrepl.CommitMessage) (*stream.Change, error) {
	if !d.inTx {
		return nil, errors.New("commit outside a transaction")
	}
	if stream.LSN(m.CommitLSN) != d.tx.Pos.CommitLSN {
		return nil, fmt.Errorf("commit lsn %s does not match begin's %s", stream.LSN(m.CommitLSN), d.tx.Pos.CommitLSN)
	}
	d.inTx = false
	d.cur = d.tx
	d.cur.Op = stream.OpCommit
	d.cur.Pos.EndLSN = stream.LSN(m.TransactionEndLSN)
	d.cur.Pos.Index = d.count
	return &d.cur, nil
}

// next starts the next change of the open transaction.
func (d *decoder) next(op stream.Op) (*stream.Change, error) {
	if !d.inTx {
		return nil, fmt.Errorf("%s outside a transaction", op)
	}
	d.cur = d.tx
	d.cur.Op = op
	d.cur.Pos.Index = d.count
	d.count++
	return &d.cur, nil
}

func (d *decoder) row(op stream.Op, relID uint32, oldType uint8, oldTuple, newTuple *pglogrepl.TupleData) (*stream.Change, error) {
	rel, ok := d.rels[relID]
	if !ok {
		return nil, fmt.Errorf("%s on unknown relation %d", op, relID)
	}
	ch, err := d.next(op)
	if err != nil {
		return nil, err
	}
	if rel.firstChange != nil {
		rel.firstChange()
		rel.firstChange = nil
	}
	d.rowEach = rel.eachChange
	ch.Table, ch.Key, ch.Columns = rel.table, rel.key, rel.names
	if oldTuple != nil {
		ch.OldIsKey = oldType == 'K'
		if ch.Old, err = d.tuple(rel, oldTuple, nil, ch.OldIsKey); err != nil {
			return nil, fmt.Errorf("%s %s old row: %w", op, rel.table, err)
		}
	}
	if newTuple != nil {
		if ch.New, err = d.tuple(rel, newTuple, ch.Old, false); err != nil {
			return nil, fmt.Errorf("%s %s new row: %w", op, rel.table, err)
		}
	}
	return ch, nil
}

// tuple decodes one TupleData against rel. An unchanged TOAST column ('u')
// takes its value from old when the server sent one there, else it is
// stream.Unchanged: known to exist, unknown to us, never NULL. A key-only
// old tuple ('K') sends NULL for every non-key column, so keyOnly keeps just
// the key columns.
func (d *decoder) tuple(rel *relation, t *pglogrepl.TupleData, old stream.Row, keyOnly bool) (stream.Row, error) {
	if len(t.Columns) != len(rel.cols) {
		return nil, fmt.Errorf("tuple has %d columns, relation %s has %d", len(t.Columns), rel.table, len(rel.cols))
	}
	row := make(stream.Row, len(rel.cols))
	for i, c := range t.Columns {
		col := rel.cols[i]
		if keyOnly && !col.key {
			continue
		}
		v, err := d.column(col, c, old)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", col.name, err)
		}
		row[col.name] = v
	}
	return row, nil
}

func (d *decoder) column(col column, c *pglogrepl.TupleDataColumn, old stream.Row) (any, error) {
	switch c.DataType {
	case pglogrepl.TupleDataTypeNull:
		return nil, nil
	case pglogrepl.TupleDataTypeToast:
		if v, ok := old[col.name]; ok {
			return v, nil
		}
		return stream.Unchanged, nil
	case pglogrepl.TupleDataTypeText:
		return d.values.Value(col.oid, c.Data), nil
	}
	return nil, fmt.Errorf("unsupported tuple data kind %q", c.DataType)
}

func (d *decoder) truncate(m *pglogrepl.TruncateMessage) (*stream.Change, error) {
	tables := make([]string, 0, len(m.RelationIDs))
	for _, id := range m.RelationIDs {
		rel, ok := d.rels[id]
		if !ok {
			return nil, fmt.Errorf("truncate of unknown relation %d", id)
		}
		tables = append(tables, rel.table)
	}
	ch, err := d.next(stream.OpTruncate)
	if err != nil {
		return nil, err
	}
	ch.Tables = tables
	return ch, nil
}

// message emits transactional logical messages other than our heartbeat.
// Non-transactional ones arrive outside any transaction and have no place
// in the position order, so they are dropped.
func (d *decoder) message(m *pglogrepl.LogicalDecodingMessage) (*stream.Change, error) {
	if !m.Transactional || m.Prefix == heartbeatPrefix {
		return nil, nil
	}
	ch, err := d.next(stream.OpMessage)
	if err != nil {
		return nil, err
	}
	ch.Prefix = m.Prefix
	// Content aliases the connection's read buffer, which is reused.
	ch.Content = append([]byte(nil), m.Content...)
	return ch, nil
}
