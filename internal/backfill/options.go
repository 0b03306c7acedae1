package backfill

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/rules"
	"github.com/pgbento/cdc/migrations"
)

// DefaultChunkSize is the number of rows read and delivered per chunk.
const DefaultChunkSize = 1000

// Options configure one table's backfill (Run) or preview (Preview).
type Options struct {
	Pool   *pgxpool.Pool // the source database; also runs rule lookups
	Rules  *rules.Set
	Schema string // the syncer's own schema (progress, dead letters)
	Table  string // "orders" (public) or "schema.table"
	// Where is an SQL boolean expression the operator wrote, inserted
	// verbatim as AND (<Where>) into every chunk's query. It is trusted
	// like the rule file; no value from a row is ever put into SQL.
	Where string
	// Snapshot is an exported snapshot name (replication.SlotSnapshot) to
	// read the table as of the slot's creation. Empty: read current data.
	Snapshot  string
	ChunkSize int  // rows per chunk; 0 means DefaultChunkSize
	Restart   bool // forget saved progress and start from the first row

	// Delivery (Run only).
	Bento bento.Config
	// Limiter paces requests to Bento; nil means bento.NewLimiter(Bento).
	// A separate `cdc backfill` process passes its own, slower one so the
	// live syncer keeps its share ("live events first").
	Limiter    *rate.Limiter
	HTTPClient *http.Client
	// Registry receives the backfill sender's metrics. Leave it nil (a
	// private registry) when the live syncer already registered its own
	// sender's series on the process registry.
	Registry prometheus.Registerer
	Version  string

	// Ledger records what Bento accepted (issue 13); nil records nothing.
	Ledger *ledger.Recorder

	Progress Reporter // nil: no progress display
	Logger   *slog.Logger
	Now      func() time.Time // nil: time.Now

	baseLogger *slog.Logger // Logger without this package's component, for the sender
}

// Result is what one Run did.
type Result struct {
	Table       string        // schema-qualified
	Rows        int64         // rows delivered so far, including earlier runs
	Events      int           // events enqueued in this run
	Failures    int           // rule failures dead-lettered in this run
	Resumed     bool          // started after a saved key
	AlreadyDone bool          // the saved progress says done; nothing was sent
	Elapsed     time.Duration // wall time of this run
}

func (o Options) withDefaults() Options {
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.baseLogger = o.Logger
	o.Logger = o.Logger.With("component", "backfill")
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = nopReporter{}
	}
	return o
}

// validate checks the options; delivery is whether Run (not Preview) uses
// them, which needs the syncer's schema.
func (o Options) validate(delivery bool) error {
	var errs []error
	if o.Pool == nil {
		errs = append(errs, errors.New("pool is required"))
	}
	if o.Rules == nil {
		errs = append(errs, errors.New("rules are required"))
	}
	if o.Table == "" {
		errs = append(errs, errors.New("table is required"))
	}
	if delivery && !migrations.ValidSchema(o.Schema) {
		errs = append(errs, fmt.Errorf("invalid schema name %q", o.Schema))
	}
	return errors.Join(errs...)
}
