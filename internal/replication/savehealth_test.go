package replication

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/logtest"
)

// TestSaveKeepsFailingMakesReaderUnhealthy (R2): a checkpoint save whose
// ledger work the server refuses every time (here a CHECK constraint; in
// the field a revoked grant) holds delivery and, after SaveFailingAfter,
// makes the reader unhealthy with the reason and one ERROR line; it is
// healthy again by itself once the save works.
func TestSaveKeepsFailingMakesReaderUnhealthy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.orders (id int PRIMARY KEY);
		CREATE TABLE public.guard (ok bool CONSTRAINT must_be_ok CHECK (ok))`, "public.orders")
	h.saveFailingAfter = 300 * time.Millisecond
	logs := &logtest.Buffer{}
	h.startLogging(slog.New(slog.NewTextHandler(logs, nil)))
	h.db.Exec(t, `INSERT INTO public.orders VALUES (1)`)
	_, commit := h.tx()
	require.Eventually(t, func() bool { ok, _ := h.reader.Healthy(); return ok }, 10*time.Second, 20*time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		h.reader.AckWithFunc(ctx)(commit.Pos, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO public.guard VALUES (false)`)
			return err
		})
	}()
	require.Eventually(t, func() bool {
		ok, why := h.reader.Healthy()
		return !ok && strings.Contains(why, "must_be_ok")
	}, 20*time.Second, 20*time.Millisecond, "a save that keeps failing makes the reader unhealthy with the reason")
	_, why := h.reader.Healthy()
	require.Contains(t, why, "saving the checkpoint fails since")
	select {
	case <-acked:
		t.Fatal("the acknowledgement returned although its save never worked")
	default:
	}

	h.db.Exec(t, `ALTER TABLE public.guard DROP CONSTRAINT must_be_ok`)
	select {
	case <-acked:
	case <-time.After(30 * time.Second):
		t.Fatal("the save did not recover")
	}
	ok, why := h.reader.Healthy()
	require.True(t, ok, why)
	require.Equal(t, 1, strings.Count(logs.String(), "level=ERROR"), logs.String())
	require.Contains(t, logs.String(), "save checkpoint recovered")
}
