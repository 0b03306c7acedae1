package replication

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgbento/cdc/internal/stream"
)

// session is one replication connection's life: START_REPLICATION, then
// decode and emit until the connection fails or ctx ends. Only the
// replication goroutine runs it; it is the only user of conn.
type session struct {
	r          *Reader
	conn       *pgconn.PgConn
	out        chan<- stream.Change
	dec        *decoder
	resume     resumePoint
	floor      stream.LSN // the slot's confirmed_flush_lsn at start: never report less
	walEnd     stream.LSN // server WAL end known to be fully received (keepalives, empty commits)
	nextStatus time.Time
	streamed   bool      // the server sent something: the connection worked
	started    bool      // START_REPLICATION succeeded: the connection streams
	pings      int       // reply-requested keepalives in quick succession
	lastPing   time.Time // when the last one arrived
}

// errServerDraining: the server is shutting down and waits for us to
// confirm WAL we cannot confirm yet (it is not acknowledged). Postgres keeps
// a walsender alive until its client confirms everything sent, so staying
// connected would block the shutdown; we disconnect and resume later.
var errServerDraining = errors.New("server is shutting down and waiting for unacknowledged WAL; disconnecting")

// session connects, starts streaming and runs until failure. streamed
// reports whether it got as far as receiving data, which resets the backoff.
func (r *Reader) session(ctx context.Context, out chan<- stream.Change, resume resumePoint) (streamed bool, err error) {
	conn, err := connectReplication(ctx, r.cfg.DSN)
	if err != nil {
		return false, err
	}
	s := &session{r: r, conn: conn, out: out, dec: newDecoder(), resume: resume}
	defer s.end(ctx)
	s.dec.primaryKey = func(relID uint32) []string { return primaryKey(ctx, r.store.pool, relID) }
	s.dec.identify = func(relID uint32, table string) (identified, error) { return r.identify(ctx, relID, table) }
	s.dec.baseTypes = func(table string, oids []uint32) ([]uint32, error) { return r.baseTypes(ctx, table, oids) }
	if r.cfg.PartitionMoves != PartitionMovesSplit {
		s.dec.moveKey = func(relID uint32, table string) ([]string, []string, error) { return r.moveKey(ctx, relID, table) }
	}
	if err := r.resolveIdentity(ctx); err != nil {
		return false, err
	}
	if err := s.start(ctx); err != nil {
		return false, err
	}
	s.started = true
	r.setHealthy(true, "")
	r.log.Info("streaming", "slot", r.cfg.Slot, "publication", r.cfg.Publication, "confirmed_flush", s.floor.String())
	err = s.run(ctx)
	return s.streamed, err
}

// end closes the connection, or, on a clean stop (ctx ended) of a session
// that still streams, parks it for Close's final report (finalstatus.go).
func (s *session) end(ctx context.Context) {
	if ctx.Err() != nil && s.started && !s.conn.IsClosed() {
		s.r.parked = &parkedConn{conn: s.conn, floor: s.floor}
		return
	}
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	s.conn.Close(closeCtx)
}

// start reads the slot's confirmed flush LSN and issues START_REPLICATION
// from it (startLSN 0 means "where the slot is").
func (s *session) start(ctx context.Context) error {
	cfg := s.r.cfg
	slot, err := ReadSlot(ctx, s.r.store.pool, cfg.Slot)
	if err != nil {
		return fmt.Errorf("read slot %s: %w", cfg.Slot, err)
	}
	if slot != nil && slot.ConfirmedFlush != "" {
		if s.floor, err = stream.ParseLSN(slot.ConfirmedFlush); err != nil {
			return fmt.Errorf("read slot %s: %w", cfg.Slot, err)
		}
	}
	err = pglogrepl.StartReplication(ctx, s.conn, cfg.Slot, 0, pglogrepl.StartReplicationOptions{
		Mode: pglogrepl.LogicalReplication, PluginArgs: pluginArgs(cfg.Publication, s.conn.ParameterStatus("server_version")),
	})
	if err != nil {
		return fmt.Errorf("start replication: %w", err)
	}
	return nil
}

// pluginArgs selects pgoutput protocol 1 (text values, no streaming of
// in-progress transactions: we only ever see committed ones). The messages
// option exists from Postgres 14.
func pluginArgs(publication, serverVersion string) []string {
	args := []string{"proto_version '1'", "publication_names '" + publication + "'"}
	major, _, _ := strings.Cut(serverVersion, ".")
	if v, err := strconv.Atoi(major); err == nil && v >= 14 {
		args = append(args, "messages 'true'")
	}
	return args
}

// run receives and handles messages until failure or ctx ends. Each read
// is bounded by a read deadline on the connection (the next status
// update), not by a per-message context: pgconn watches a cancellable
// context with a goroutine per call, which cost about a sixth of the
// syncer's CPU in a backlog drain (issue 14). ctx's end interrupts a
// blocked read by moving the deadline to the past.
func (s *session) run(ctx context.Context) error {
	nc := s.conn.Conn()
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { _ = nc.SetReadDeadline(time.Unix(1, 0)); close(interrupted) })
	defer func() {
		if !stop() {
			<-interrupted
		}
		// A parked connection (finalstatus.go) is read again by nobody,
		// but leave it as pgconn would: no deadline.
		_ = nc.SetReadDeadline(time.Time{})
	}()
	var deadline time.Time // the read deadline set on nc
	for {
		if !s.r.now().Before(s.nextStatus) {
			if err := s.sendStatus(ctx); err != nil {
				return err
			}
		}
		if !deadline.Equal(s.nextStatus) {
			deadline = s.nextStatus
			if err := nc.SetReadDeadline(deadline); err != nil {
				return fmt.Errorf("set replication read deadline: %w", err)
			}
		}
		if err := ctx.Err(); err != nil { // after the deadline is set: AfterFunc's comes later or already counted
			return fmt.Errorf("receive replication message: %w", err)
		}
		msg, err := s.conn.ReceiveMessage(context.Background())
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("receive replication message: %w", ctx.Err())
			}
			if pgconn.Timeout(err) {
				continue // time to send status; the connection stays usable
			}
			return fmt.Errorf("receive replication message: %w", err)
		}
		if err := s.handle(ctx, msg); err != nil {
			return err
		}
	}
}

func (s *session) handle(ctx context.Context, msg pgproto3.BackendMessage) error {
	switch m := msg.(type) {
	case *pgproto3.CopyData:
		s.streamed = true
		return s.handleCopyData(ctx, m.Data)
	case *pgproto3.ErrorResponse:
		return pgconn.ErrorResponseToPgError(m)
	case *pgproto3.CopyDone:
		return errors.New("server ended the replication stream")
	}
	return nil // notices and the like
}

func (s *session) handleCopyData(ctx context.Context, data []byte) error {
	if len(data) == 0 {
		return errors.New("empty copy data")
	}
	switch data[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		pkm, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
		if err != nil {
			return fmt.Errorf("parse keepalive: %w", err)
		}
		// The walsender's sent pointer: every transaction committed before
		// it has already been sent to us.
		s.observeWALEnd(stream.LSN(pkm.ServerWALEnd))
		if pkm.ReplyRequested {
			s.nextStatus = time.Time{} // answer at once
			return s.checkDraining()
		}
	case pglogrepl.XLogDataByteID:
		xld, err := pglogrepl.ParseXLogData(data[1:])
		if err != nil {
			return fmt.Errorf("parse xlogdata: %w", err)
		}
		return s.handleWAL(ctx, xld.WALData)
	}
	return nil
}

// checkDraining spots a shutting-down server: a normal walsender asks for
// a reply at most every wal_sender_timeout/2, one that is stopping asks again
// as soon as we answer (WalSndDone in walsender.c).
func (s *session) checkDraining() error {
	now := s.r.now()
	if now.Sub(s.lastPing) < time.Second {
		s.pings++
	} else {
		s.pings = 1
	}
	s.lastPing = now
	// What we last reported (floor), not what we could report: while the
	// server stops, recording a higher flush fails (reportable), so the
	// walsender would wait forever for a confirmation that never comes.
	if s.pings >= 3 && s.floor < s.walEnd {
		return errServerDraining
	}
	return nil
}

func (s *session) observeWALEnd(lsn stream.LSN) {
	s.walEnd = max(s.walEnd, lsn)
}

// handleWAL decodes one pgoutput message and emits its changes.
func (s *session) handleWAL(ctx context.Context, data []byte) error {
	changes, err := s.dec.decode(data)
	if err != nil {
		return err
	}
	for _, c := range changes {
		if err := s.handleChange(ctx, c.ch, c.each); err != nil {
			return err
		}
	}
	return nil
}

// handleChange emits ch unless an earlier session or process already
// handled it (resumePoint), then calls each (nil: nothing), its relation's
// eachChange.
func (s *session) handleChange(ctx context.Context, ch *stream.Change, each func()) error {
	emit, sub := s.resume.filter(ch.Pos)
	if ch.Op == stream.OpCommit && (ch.Pos.Index == 0 || !emit) {
		// An empty transaction (other tables, heartbeats) or one already
		// handled: nothing for the delivery side, but its end is received.
		s.observeWALEnd(ch.Pos.EndLSN)
		return nil
	}
	if !emit {
		return nil
	}
	ch.Pos.Sub = sub
	if err := s.send(ctx, ch); err != nil {
		return err
	}
	if each != nil {
		each()
	}
	return nil
}

// send hands ch to the delivery side once its bytes fit the queue's budget
// and out has room. While it waits it keeps sending status updates so the
// server does not time out a slow consumer.
func (s *session) send(ctx context.Context, ch *stream.Change) error {
	ch.QueuedBytes = ch.Size()
	if s.r.queue.TryAcquire(ch.QueuedBytes) {
		select {
		case s.out <- *ch:
			s.emitted(ch)
			return nil
		default:
		}
		return s.wait(ctx, ch, true)
	}
	return s.wait(ctx, ch, false)
}

// wait blocks until ch is handed over (acquired: its bytes are already
// taken from the budget), answering the server meanwhile.
func (s *session) wait(ctx context.Context, ch *stream.Change, acquired bool) error {
	for {
		var out chan<- stream.Change
		var budget <-chan struct{}
		if acquired {
			out = s.out
		} else {
			budget = s.r.queue.Changed()
			if acquired = s.r.queue.TryAcquire(ch.QueuedBytes); acquired {
				continue
			}
		}
		timer := time.NewTimer(s.nextStatus.Sub(s.r.now()))
		select {
		case out <- *ch:
			timer.Stop()
			s.emitted(ch)
			return nil
		case <-budget:
			timer.Stop()
		case <-timer.C:
			if err := s.sendStatus(ctx); err != nil {
				s.releaseIf(acquired, ch)
				return err
			}
			if serverStopping(ctx, s.r.store.pool) {
				s.releaseIf(acquired, ch)
				return errServerDraining
			}
		case <-ctx.Done():
			timer.Stop()
			s.releaseIf(acquired, ch)
			return ctx.Err()
		}
	}
}

func (s *session) releaseIf(acquired bool, ch *stream.Change) {
	if acquired {
		s.r.queue.Release(ch.QueuedBytes)
	}
}

func (s *session) emitted(ch *stream.Change) {
	s.r.emitted, s.r.lastEmitted = true, ch.Pos
	s.r.unacked.emitted(ch.Pos, ch.CommitTime)
	s.r.metrics.changed(ch.Op)
}

// flushLSN is what we may tell the server is done (doc.go): the end of the
// last acknowledged and persisted transaction; when nothing is in flight,
// the WAL end we have fully received; never below the slot's own position.
func (s *session) flushLSN() stream.LSN {
	persisted, flush := s.r.acks.durable()
	idle := !s.dec.inTx && (!s.r.emitted || s.r.lastEmitted == persisted)
	if idle {
		flush = max(flush, s.walEnd)
	}
	return max(flush, s.floor)
}

func (s *session) sendStatus(ctx context.Context) error {
	flush := s.r.reportable(ctx, s.flushLSN())
	err := pglogrepl.SendStandbyStatusUpdate(ctx, s.conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: pglogrepl.LSN(flush),
		WALFlushPosition: pglogrepl.LSN(flush),
		WALApplyPosition: pglogrepl.LSN(flush),
	})
	if err != nil {
		return fmt.Errorf("send standby status: %w", err)
	}
	s.floor = flush // the server now holds it; never go back
	s.nextStatus = s.r.now().Add(s.r.cfg.StatusInterval)
	s.r.metrics.checkpoint.Set(float64(flush))
	return nil
}
