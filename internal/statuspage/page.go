package statuspage

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/ops"
)

//go:embed assets
var assets embed.FS

// Refresh is how often the page reloads itself.
const Refresh = 10 * time.Second

// deadLetterRows is how many of the newest dead letters the page lists.
const deadLetterRows = 20

// queryTimeout bounds the page's reads, so a stuck database shows as an
// error on the page instead of a hanging request.
const queryTimeout = 5 * time.Second

// Deps are what the page reads.
type Deps struct {
	Pool *pgxpool.Pool
	// Config gives the slot, the schema, the pacing budget, reconcile.every
	// and log.level (debug shows emails unmasked).
	Config   *config.Config
	Gatherer prometheus.Gatherer
	// Ready is the syncer's readiness and the reason when not ready.
	Ready func() (bool, string)
	// OldestUnacked is the age of the oldest change waiting for its
	// acknowledgement; it raises the lag the page shows (ops.Status.RaiseLag).
	OldestUnacked func() time.Duration
	// Halted reports whether delivery is stopped on a halting Bento answer.
	Halted func() bool
	// Delivery reports whether delivery is retrying or halted, since when
	// and the last error (nil: not shown).
	Delivery func() bento.DeliveryState
	// Registry, when set, receives cdc_ready and cdc_delivery_halted.
	Registry prometheus.Registerer
	Version  string
	Logger   *slog.Logger
	Now      func() time.Time
}

// Page serves the status page.
type Page struct {
	d     Deps
	tmpl  *template.Template
	mask  masker
	rates rates
	files http.Handler
}

// New parses the embedded template; it does no I/O.
func New(d Deps) *Page {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	sub, _ := fs.Sub(assets, "assets")
	registerGauges(d)
	return &Page{
		d:     d,
		tmpl:  template.Must(template.New("page.html").Funcs(funcs).ParseFS(assets, "assets/page.html")),
		mask:  masker{off: d.Config.Log.Level == "debug"},
		files: http.StripPrefix("/assets/", http.FileServerFS(sub)),
	}
}

// Handler serves the page at / and its assets under /assets/; every other
// path goes to next (the metrics and health endpoints).
func (p *Page) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/":
			p.ServeHTTP(w, r)
		case len(r.URL.Path) > len("/assets/") && r.URL.Path[:len("/assets/")] == "/assets/":
			p.files.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// Run samples the delivery counters every few seconds until ctx ends, so
// the per-minute rates are current even when nobody looks.
func (p *Page) Run(ctx context.Context) {
	t := time.NewTicker(Refresh / 2)
	defer t.Stop()
	for {
		if s, _, err := p.counters(); err == nil {
			p.rates.add(s)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ServeHTTP renders the page; it only reads.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "read-only page", http.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	v := p.collect(ctx)
	var buf bytes.Buffer
	if err := p.tmpl.Execute(&buf, v); err != nil {
		p.d.Logger.Error("render status page", "component", "statuspage", "error", err)
		http.Error(w, "cannot render the status page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// view is everything the template shows.
type view struct {
	Now            time.Time
	Version        string
	RefreshSeconds int
	Streaming      bool
	Why            string
	Delivery       bento.DeliveryState
	DeliveryFor    time.Duration // how long it has been retrying or halted
	Slot           string
	Status         *ops.Status // nil when it could not be read
	CheckpointAge  time.Duration
	RatesKnown     bool
	RequestsPerMin float64
	EventsPerMin   float64
	Budget         float64 // requests per minute; 0 unlimited
	Rules          []ruleView
	DeadLetters    []deadLetterView
	ReconcileEvery time.Duration
	MaskedEmails   bool
	Errors         []string // what could not be read
}

// collect reads everything; a part that fails is listed in Errors and the
// rest is still shown.
func (p *Page) collect(ctx context.Context) view {
	now := p.d.Now()
	cfg := p.d.Config
	v := view{Now: now, Version: p.d.Version, RefreshSeconds: int(Refresh.Seconds()), Slot: cfg.Source.Slot,
		Budget: cfg.Bento.RequestsPerMinute, ReconcileEvery: cfg.Reconcile.Every, MaskedEmails: !p.mask.off}
	v.Streaming, v.Why = p.d.Ready()
	if p.d.Delivery != nil {
		v.Delivery = p.d.Delivery()
		if !v.Delivery.Since.IsZero() {
			v.DeliveryFor = now.Sub(v.Delivery.Since).Round(time.Second)
		}
	}
	fail := func(err error) {
		if err != nil {
			v.Errors = append(v.Errors, err.Error())
		}
	}
	var err error
	v.Status, err = p.status(ctx)
	fail(err)
	if v.Status != nil && p.d.OldestUnacked != nil {
		v.Status.RaiseLag(p.d.OldestUnacked().Seconds())
	}
	if v.Status != nil && v.Status.Checkpoint != nil {
		v.CheckpointAge = now.Sub(v.Status.Checkpoint.UpdatedAt).Round(time.Second)
	}
	v.DeadLetters, err = p.deadLetters(ctx, deadLetterRows)
	fail(err)
	s, rules, err := p.counters()
	fail(err)
	v.Rules = rules
	if err == nil {
		v.RequestsPerMin, v.EventsPerMin, v.RatesKnown = p.rates.add(s)
	}
	return v
}
