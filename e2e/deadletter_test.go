package e2e

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
)

// deadLetterJSON is the part of `cdc dlq list --json` the tests read.
type deadLetterJSON struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind"`
	Rule     string `json:"rule"`
	Table    string `json:"table"`
	Key      string `json:"key"`
	Reason   string `json:"reason"`
	Attempts int    `json:"attempts"`
}

// statusJSON is `cdc status --json`.
type statusJSON struct {
	Slot *struct {
		Active         bool   `json:"active"`
		ConfirmedFlush string `json:"confirmed_flush_lsn"`
		CurrentWAL     string `json:"current_wal_lsn"`
		LagBytes       int64  `json:"lag_bytes"`
	} `json:"slot"`
	Checkpoint *struct {
		CommitLSN string `json:"commit_lsn"`
		EndLSN    string `json:"end_lsn"`
		Index     int    `json:"change_index"`
		Sub       int    `json:"event_sub"`
	} `json:"checkpoint"`
	DeadLetters int64 `json:"dead_letters"`
}

// TestPoisonRowAndRejectedEvent: an order whose customer's email is not an
// email (the rules cannot build its events) and a purchase Bento rejects
// with 400 become dead letters while everything else is delivered. After
// the row is fixed and Bento accepts again, `cdc dlq replay` delivers them
// (the rule ones re-evaluated, their lookup now seeing the fixed email) and
// the dead-letter table is empty.
func TestPoisonRowAndRejectedEvent(t *testing.T) {
	e := newEnv(t, envOptions{BatchSize: 10})
	e.fake.RejectWhen(func(ev bentotest.ReceivedEvent) bool { return ev.Type == "$purchase" && amountOf(ev) == "6660" })
	s := e.startSyncer()
	e.db.Exec(t, `INSERT INTO customers (email, first_name, marketing_opt_in) VALUES
		('ann@example.com', 'Ann', true), ('not an email', 'Poison', false), ('bob@example.com', 'Bob', true)`)
	for _, o := range []struct{ email, total string }{
		{"ann@example.com", "10.00"}, {"bob@example.com", "20.00"}, {"ann@example.com", "66.60"},
		{"not an email", "30.00"}, {"bob@example.com", "40.00"}, {"ann@example.com", "50.00"},
	} {
		e.db.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at)
			SELECT id, 'paid', $2, now() FROM customers WHERE email = $1`, o.email, o.total)
	}
	require.Eventually(t, func() bool {
		return e.deadLetterCount(t) == 3 && received(e.fake, func(ev bentotest.ReceivedEvent) bool { return amountOf(ev) == "5000" })
	}, time.Minute, 50*time.Millisecond, "the bad events were not dead-lettered or the rest not delivered")

	raw := e.cli("dlq", "list", "--json")
	require.Zero(t, raw.Code, raw.String())
	for _, key := range []string{`"id"`, `"created_at"`, `"table"`, `"commit_lsn"`, `"attempts"`} {
		require.Contains(t, raw.Stdout, key+":", "dlq list --json uses snake_case like status --json")
	}
	require.NotContains(t, raw.Stdout, `"CreatedAt"`)
	list := e.listDeadLetters(t)
	var kinds []string
	for _, d := range list {
		kinds = append(kinds, d.Kind+"/"+d.Rule)
		require.Equal(t, "public.orders", d.Table)
		require.NotEmpty(t, d.Key, "dead letter %d names no row", d.ID)
		if d.Kind == "rule" {
			require.Contains(t, d.Reason, "email")
		}
	}
	sort.Strings(kinds)
	require.Equal(t, []string{"rejected/purchase_on_paid", "rule/lifetime_value", "rule/purchase_on_paid"}, kinds)
	plain := e.cli("dlq", "list")
	require.Zero(t, plain.Code, plain.String())
	require.Len(t, strings.Split(strings.TrimSpace(plain.Stdout), "\n"), 4, "a header and three dead letters:\n%s", plain.Stdout)

	code, _ := s.terminate(30 * time.Second)
	require.Zero(t, code)
	e.requireStatus(t, 3)

	e.db.Exec(t, `UPDATE customers SET email = 'poison@example.com' WHERE email = 'not an email'`)
	e.fake.RejectWhen(nil)
	replay := e.cli("dlq", "replay")
	require.Zero(t, replay.Code, replay.String())
	require.Regexp(t, `^replayed: 3 dead letters \(ids \d+, \d+, \d+\)\n$`, replay.Stdout)
	require.Empty(t, e.listDeadLetters(t))
	e.requireStatus(t, 0)

	want := wantFromDB(t, e.db.Pool)
	require.True(t, want.complete(e.fake.Received()), want.missing(e.fake.Received()))
	require.Zero(t, want.check(t, e.fake), "duplicates")
	require.Equal(t, int64(3000), e.fake.PurchaseTotals()["poison@example.com"])
}

func amountOf(ev bentotest.ReceivedEvent) string {
	v, _ := ev.Details["value"].(map[string]any)
	if a, ok := v["amount"].(json.Number); ok {
		return a.String()
	}
	return ""
}

func received(fake *bentotest.Server, match func(bentotest.ReceivedEvent) bool) bool {
	for _, ev := range fake.Received() {
		if match(ev) {
			return true
		}
	}
	return false
}

func (e *env) deadLetterCount(t *testing.T) int {
	var n int
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM cdc.dead_letters`).Scan(&n))
	return n
}

func (e *env) listDeadLetters(t *testing.T) []deadLetterJSON {
	t.Helper()
	res := e.cli("dlq", "list", "--json")
	require.Zero(t, res.Code, res.String())
	var list []deadLetterJSON
	require.NoError(t, json.Unmarshal([]byte(res.Stdout), &list), res.Stdout)
	return list
}

// requireStatus checks `cdc status --json` of a stopped syncer against the
// database: the checkpoint row, the slot's own numbers, the dead letters.
// The server releases the slot a moment after the syncer exits: until then
// the slot is still active and its confirmed flush may still move.
func (e *env) requireStatus(t *testing.T, deadLetters int64) {
	t.Helper()
	e.db.WaitSlotReleased(t, "cdc_bento")
	res := e.cli("status", "--json")
	require.Zero(t, res.Code, res.String())
	var st statusJSON
	require.NoError(t, json.Unmarshal([]byte(res.Stdout), &st), res.Stdout)
	require.Equal(t, deadLetters, st.DeadLetters)

	ctx := context.Background()
	require.NotNil(t, st.Checkpoint, "no checkpoint after delivering")
	var commit, end string
	var index, sub int
	require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT commit_lsn::text, end_lsn::text, change_index, event_sub
		FROM cdc.checkpoint WHERE slot_name = 'cdc_bento'`).Scan(&commit, &end, &index, &sub))
	require.Equal(t, []any{commit, end, index, sub}, []any{st.Checkpoint.CommitLSN, st.Checkpoint.EndLSN, st.Checkpoint.Index, st.Checkpoint.Sub})

	require.NotNil(t, st.Slot)
	require.False(t, st.Slot.Active, "nobody reads the slot of a stopped syncer")
	var confirmed string
	var lag int64
	require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT confirmed_flush_lsn::text, pg_wal_lsn_diff($1::pg_lsn, confirmed_flush_lsn)::bigint
		FROM pg_replication_slots WHERE slot_name = 'cdc_bento' AND database = current_database()`, st.Slot.CurrentWAL).Scan(&confirmed, &lag))
	require.Equal(t, confirmed, st.Slot.ConfirmedFlush)
	require.Equal(t, lag, st.Slot.LagBytes, "lag is the server's WAL end minus the slot's confirmed flush")
}
