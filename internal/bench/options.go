package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Defaults, sized for a 2-core machine.
const (
	DefaultBacklog   = 200000
	DefaultTxSize    = 100
	DefaultDuration  = 30 * time.Second
	DefaultBatchSize = 500
	DefaultTimeout   = 10 * time.Minute
	DefaultWriters   = 4
	DefaultCustomers = 1000
	DefaultPacedRPM  = 120
	// DefaultOutageRate is the outage mode's write rate (issue 14, item 5:
	// a 5-minute outage at 200 transactions/s).
	DefaultOutageRate = 200
	PacedBatchSize    = 1000 // Bento's limit: the paced mode's bento.batch_size
	// WideRowBytes is the note of each order in the wide-rows mode (issue
	// 10.8: rows this wide behind a slow Bento must stay within the queues'
	// byte budgets).
	WideRowBytes = 2 << 20
)

// Options say what to run. Zero values take the defaults above, except the
// mode fields: a mode runs only when its field is set.
type Options struct {
	// DSN is an existing database (superuser, wal_level=logical). Empty:
	// start a throwaway server with pglocal. The benchmark creates and
	// drops its own schemas, slots and publication in it.
	DSN string
	// Bindir holds pg_recvlogical (and initdb/pg_ctl for the throwaway
	// server). Empty: pglocal.FindBindir.
	Bindir string
	// Syncer is the command that runs the syncer; "--config FILE" is
	// appended. Empty: this executable with "run".
	Syncer []string

	Backlog   int           // orders in the backlog mode; 0 skips it
	TxSize    int           // rows per backlog transaction
	Repeat    int           // rounds of both consumers over each backlog
	LargeTx   int           // rows of the one-transaction mode; 0 skips it
	WideRows  int           // orders with a WideRowBytes note, one per transaction; 0 skips it
	SinkDelay time.Duration // the stand-in answers each request this late (a slow Bento)
	Steady    []int         // transactions per second, one steady run each
	Duration  time.Duration // of each steady run
	Writers   int           // connections the steady writer commits on
	BatchSize int           // the syncer's bento.batch_size
	QueueSize int           // the syncer's bento.queue_size; 0: the syncer's default
	Ledger    string        // the syncer's ledger mode ("off", "purchases", "all"); "": its default
	Customers int           // distinct customers (emails) orders spread over
	Paced     int           // events of the paced mode's backlog; 0 skips it
	RPM       int           // the paced and outage modes' bento.requests_per_minute
	// Outage is how long the stand-in answers 503 in the outage mode
	// while OutageRate single-row transactions a second are committed;
	// 0 skips it.
	Outage     time.Duration
	OutageRate int

	// Timeout bounds each drain: a consumer that has not finished by then
	// is a failure to run, not a slow result.
	Timeout time.Duration
	Out     io.Writer // results and progress
}

func (o *Options) setDefaults() error {
	if o.TxSize == 0 {
		o.TxSize = DefaultTxSize
	}
	if o.Repeat == 0 {
		o.Repeat = 1
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Writers == 0 {
		o.Writers = DefaultWriters
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Customers == 0 {
		o.Customers = DefaultCustomers
	}
	if o.RPM == 0 {
		o.RPM = DefaultPacedRPM
	}
	if o.OutageRate == 0 {
		o.OutageRate = DefaultOutageRate
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if len(o.Syncer) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find own executable: %w", err)
		}
		o.Syncer = []string{exe, "run"}
	}
	return o.validate()
}

func (o *Options) validate() error {
	var errs []error
	if o.Backlog < 0 || o.LargeTx < 0 || o.WideRows < 0 || o.SinkDelay < 0 || o.Paced < 0 || o.RPM < 1 || o.Outage < 0 || o.OutageRate < 1 ||
		o.TxSize < 1 || o.Writers < 1 || o.Customers < 1 || o.Repeat < 1 || o.Repeat > 10 {
		errs = append(errs, errors.New("backlog, large-tx, wide-rows, sink-delay, paced, rpm, outage, outage-rate, tx-size, writers and customers must be positive; repeat 1 to 10"))
	}
	if o.Backlog == 0 && o.LargeTx == 0 && o.WideRows == 0 && o.Paced == 0 && o.Outage == 0 && len(o.Steady) == 0 {
		errs = append(errs, errors.New("nothing to run: set a backlog, a large transaction, wide rows, a paced backlog, an outage or steady rates"))
	}
	for _, r := range o.Steady {
		if r < 1 {
			errs = append(errs, fmt.Errorf("steady rate %d: must be at least 1 transaction/s", r))
		}
	}
	if o.Ledger != "" && o.Ledger != "off" && o.Ledger != "purchases" && o.Ledger != "all" {
		errs = append(errs, fmt.Errorf("ledger %q: must be off, purchases or all", o.Ledger))
	}
	if o.QueueSize < 0 {
		errs = append(errs, fmt.Errorf("queue size %d: must not be negative", o.QueueSize))
	}
	if o.BatchSize < 1 || o.BatchSize > 1000 {
		errs = append(errs, fmt.Errorf("batch size %d: must be between 1 and 1000", o.BatchSize))
	}
	if o.Duration < time.Second {
		errs = append(errs, fmt.Errorf("duration %s: must be at least 1s", o.Duration))
	}
	return errors.Join(errs...)
}
