package reconcile

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/rules"
)

// Options configure one reconcile run.
type Options struct {
	Pool   *pgxpool.Pool
	Rules  *rules.Set
	Schema string
	// Tables to evaluate; empty: every table with a $purchase rule on snapshot.
	Tables []string
	// Since limits both sides to purchases dated at or after it (the event's
	// date; the ledger's event_at, else accepted_at). Zero: everything.
	Since  time.Time
	DryRun bool

	// Repair (not DryRun).
	Bento      bento.Config
	Limiter    *rate.Limiter // nil: bento.NewLimiter(Bento)
	HTTPClient *http.Client
	Version    string
	Ledger     ledger.Mode // how repairs are recorded; off still records nothing
	// Health, when set, reports the repair sender's health while it runs
	// (the syncer's Ready reads it); nil: not reported.
	Health *Health

	Logger *slog.Logger
	Now    func() time.Time
	// Registry receives the repair sender's metrics; nil: a private one.
	Registry prometheus.Registerer
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(o.Tables) == 0 && o.Rules != nil {
		o.Tables = o.Rules.PurchaseTables()
	}
	if o.Ledger == "" {
		o.Ledger = ledger.DefaultMode
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	return o
}

func (o Options) validate() error {
	var errs []error
	if o.Pool == nil {
		errs = append(errs, errors.New("pool is required"))
	}
	if o.Rules == nil {
		errs = append(errs, errors.New("rules are required"))
	}
	if o.Ledger == ledger.ModeOff {
		errs = append(errs, errors.New("ledger is off: there is no record of what Bento has to compare with"))
	}
	if len(o.Tables) == 0 {
		errs = append(errs, errors.New("no $purchase rule fires on snapshot: nothing to reconcile (add snapshot to the purchase rule's on)"))
	}
	return errors.Join(errs...)
}
