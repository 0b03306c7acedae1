package bento

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/pgbento/cdc/internal/stream"
)

// DeliveredFunc receives, in order, the acknowledgement of last together
// with the events Bento accepted among the items it covers (dead letters and
// markers are not among them). It replaces the plain ack; like it, it
// should persist before it returns (the delivery ledger is written in the
// same transaction as the checkpoint).
type DeliveredFunc func(last stream.Position, accepted []stream.Delivered)

// receipt is one accepted request as the ledger names it.
type receipt struct {
	id string
	at time.Time
}

// accepted is the ledger record of an entry Bento accepted in request req.
func accepted(e *entry, req string, at time.Time) *stream.Delivered {
	ev := e.item.Event
	return &stream.Delivered{
		Pos: e.item.Pos, Rule: ev.Rule, Table: ev.Table, Key: ev.Key, Type: ev.Type, Email: ev.Email,
		Date: ev.Date, Value: e.value, Request: req, Accepted: at, Committed: ev.Committed,
	}
}

// requestID names one accepted request in the ledger.
func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
