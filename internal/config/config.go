// Package config loads the syncer's one YAML file: the source database, the
// Bento destination, the rules and the operational settings. It owns
// parsing, ${ENV} expansion, defaults and mapping every problem to the file
// and line it comes from. The meaning of each section belongs to the package
// that uses it (replication, bento, rules).
package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/internal/rules"
	"github.com/pgbento/cdc/internal/stream"
)

// Config is the whole file.
type Config struct {
	Source   Source         `yaml:"source"`
	Bento    bento.Config   `yaml:"bento"`
	Defaults rules.Defaults `yaml:"defaults"`
	Rules    []rules.Spec   `yaml:"rules"`
	Backfill Backfill       `yaml:"backfill"`
	HTTP     HTTP           `yaml:"http"`
	Log      Log            `yaml:"log"`
	// ShutdownTimeout bounds how long a SIGTERM waits for in-flight
	// deliveries before handing them back (they are re-read on restart).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Standby makes a second instance wait for the first one's lock instead
	// of failing; it takes over when the first dies.
	Standby bool `yaml:"standby"`
	// Ledger says which accepted events the delivery ledger records
	// (purchases, all, off); LedgerRetention how long it keeps them.
	Ledger          ledger.Mode   `yaml:"ledger"`
	LedgerRetention time.Duration `yaml:"ledger_retention"`
	Reconcile       Reconcile     `yaml:"reconcile"`

	// File is the path the config was loaded from.
	File string `yaml:"-"`
	// Compiled is the compiled rule set.
	Compiled *rules.Set `yaml:"-"`

	loc locator
}

// Line returns the line of a path such as "rules[2].event.email" (as in
// rules.FieldError.Path) in the file, or 0.
func (c *Config) Line(path string) int {
	if c.loc.file == nil {
		return 0
	}
	return c.loc.line(path)
}

// Source is the database to replicate from.
type Source struct {
	replication.Config `yaml:",inline"`
	// DSNFile names a file holding the DSN (for secret mounts).
	DSNFile string `yaml:"dsn_file"`
}

// Backfill configures history loading.
type Backfill struct {
	// OnCreate backfills the rules' tables from the slot's snapshot when
	// the slot is first created, so every existing row is counted once.
	OnCreate  bool `yaml:"on_create"`
	ChunkSize int  `yaml:"chunk_size"`
}

// Reconcile configures the periodic reconcile inside `cdc run`.
type Reconcile struct {
	// Every is the interval between runs; 0 (the default) is off.
	Every time.Duration `yaml:"every"`
}

// HTTP is where metrics and health endpoints are served.
type HTTP struct {
	Addr string `yaml:"addr"`
}

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// Load reads, expands, decodes, defaults, validates and compiles a config
// file. Every problem it can find is reported at once as Errors, each with
// the file and line it comes from.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, src)
}

// Parse is Load over bytes; name is used in error messages.
func Parse(name string, src []byte) (*Config, error) {
	file, err := parseYAML(name, src)
	if err != nil {
		return nil, err
	}
	var cfg Config
	// Bento's defaults go in before decoding so that an explicit zero (e.g.
	// requests_per_minute: 0, unlimited) keeps its meaning.
	cfg.Bento.SetDefaults()
	unknown, err := unknownFields(name, file)
	if err != nil {
		return nil, err
	}
	if err := decodeYAML(name, file, &cfg); err != nil {
		return nil, append(unknown, err.(Errors)...).byLine()
	}
	if len(unknown) == 0 { // what the walk cannot see: keys an alias or a merge key brings
		if err := decodeYAML(name, file, new(Config), yaml.Strict()); err != nil {
			unknown = err.(Errors)
		}
	}
	cfg.File = name
	loc := locator{name: name, file: file}
	errs := append(unknown, cfg.expand(loc)...)
	cfg.setDefaults()
	errs = append(errs, withoutExpanded(cfg.validate(loc), errs)...)
	set, err := rules.Compile(cfg.Defaults, cfg.Rules)
	errs = append(errs, loc.rulesErrors(err)...)
	if len(errs) > 0 {
		return nil, errs.byLine()
	}
	cfg.Compiled = set
	cfg.loc = loc
	cfg.Source.Tables = set.Tables()
	return &cfg, nil
}

func (c *Config) setDefaults() {
	c.Source.SetDefaults()
	if c.Backfill.ChunkSize == 0 {
		c.Backfill.ChunkSize = 1000
	}
	if c.HTTP.Addr == "" {
		c.HTTP.Addr = "127.0.0.1:9187"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.Ledger == "" {
		c.Ledger = ledger.DefaultMode
	}
	if c.LedgerRetention == 0 {
		c.LedgerRetention = ledger.DefaultRetention
	}
}

func (c *Config) validate(loc locator) Errors {
	var errs Errors
	add := func(path, msg string) { errs = append(errs, loc.at(path, "", msg)) }
	for _, err := range append(c.Source.Validate(), c.Bento.Validate()...) {
		var fe *stream.FieldError
		if errors.As(err, &fe) {
			add(fe.Path, fe.Error())
		} else {
			add("", err.Error())
		}
	}
	if msg := dsnProblem(c.Source.DSN); msg != "" {
		add("source.dsn", msg)
	}
	errs = append(errs, c.commandRules(loc)...)
	if !oneOf(c.Log.Level, "debug", "info", "warn", "error") {
		add("log.level", fmt.Sprintf("log.level %q: use debug, info, warn or error", c.Log.Level))
	}
	if !oneOf(c.Log.Format, "json", "text") {
		add("log.format", fmt.Sprintf("log.format %q: use json or text", c.Log.Format))
	}
	if _, err := ledger.ParseMode(string(c.Ledger)); err != nil {
		add("ledger", err.Error())
	}
	if c.LedgerRetention < time.Hour {
		add("ledger_retention", "ledger_retention must be at least 1h (e.g. 720h for 30 days)")
	}
	if c.Reconcile.Every < 0 || (c.Reconcile.Every > 0 && c.Reconcile.Every < time.Second) {
		add("reconcile.every", "reconcile.every must be 0 (off) or at least 1s")
	}
	if c.Backfill.ChunkSize < 1 || c.Backfill.ChunkSize > 100000 {
		add("backfill.chunk_size", "backfill.chunk_size must be between 1 and 100000")
	}
	return errs
}

// dsnProblem finds what a URL DSN cannot mean: an '@' in the user or
// password that is not percent-encoded splits the authority in the wrong
// place, so part of the password becomes the host (logged, looked up in
// DNS). The message never holds the DSN (issue 11, item 11).
func dsnProblem(dsn string) string {
	rest, isURL := strings.CutPrefix(dsn, "postgres://")
	if !isURL {
		rest, isURL = strings.CutPrefix(dsn, "postgresql://")
	}
	if !isURL {
		return ""
	}
	rest, _, _ = strings.Cut(rest, "?")
	if strings.Count(rest, "@") > 1 {
		return "source.dsn: the user or password holds an '@' that is not percent-encoded: write it as %40 " +
			"(percent-encode every reserved character in them); value not shown"
	}
	return ""
}

// commandRules reports rules that emit Bento commands ($change_email)
// while the transport cannot send them: only the Events API, with its
// keys, has the commands endpoint.
func (c *Config) commandRules(loc locator) Errors {
	if c.Bento.Transport == bento.TransportEventsAPI {
		return nil
	}
	var errs Errors
	for i, r := range c.Rules {
		if r.Event.Type == stream.TypeChangeEmail {
			path := fmt.Sprintf("rules[%d].event.type", i)
			errs = append(errs, loc.at(path, r.Name, "$change_email is a Bento command, which only bento.transport: "+
				"events_api (with publishable_key and secret_key) can send; the webhook transport cannot"))
		}
	}
	return errs
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

// Error is one problem in the config file.
type Error struct {
	File  string
	Line  int // 0 when unknown
	Rule  string
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	if e.Field != "" && !strings.Contains(e.Msg, e.Field) {
		fmt.Fprintf(&b, "%s: ", e.Field)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file.
type Errors []*Error

// byLine orders the problems as they appear in the file; those without a
// line keep their order, after the others.
func (es Errors) byLine() Errors {
	slices.SortStableFunc(es, func(a, b *Error) int {
		switch {
		case a.Line == b.Line:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		}
		return a.Line - b.Line
	})
	return es
}

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// yamlError turns a go-yaml error into an Error with its line. The message
// comes from the unexpanded source, so it never holds a secret.
func yamlError(name string, err error) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		return &Error{File: name, Line: ye.GetToken().Position.Line, Msg: ye.GetMessage()}
	}
	return &Error{File: name, Msg: err.Error()}
}

// locator maps a dotted path such as "rules[2].event.email" to its line.
type locator struct {
	name string
	file *ast.File
}

func (l locator) line(path string) int {
	for path != "" {
		p, err := yaml.PathString("$." + path)
		if err == nil {
			if node, err := p.FilterFile(l.file); err == nil && node != nil {
				return node.GetToken().Position.Line
			}
		}
		path = parent(path)
	}
	return 0
}

// parent drops the last element of a path: "a.b[2].c" -> "a.b[2]" -> "a.b".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func (l locator) at(path, rule, msg string) *Error {
	return &Error{File: l.name, Line: l.line(path), Rule: rule, Field: path, Msg: msg}
}

func (l locator) rulesErrors(err error) Errors {
	if err == nil {
		return nil
	}
	var list rules.Errors
	if !errors.As(err, &list) {
		return Errors{{File: l.name, Msg: err.Error()}}
	}
	out := make(Errors, 0, len(list))
	for _, fe := range list {
		out = append(out, l.at(fe.Path, fe.Rule, fe.Msg))
	}
	return out
}
