package rules

import "time"

// Defaults holds the rule file's defaults section.
type Defaults struct {
	// Source is the webhook source segment for rules that set none
	// (default "generic").
	Source string `yaml:"source,omitempty"`
	// OnError is what a rule does with a row it cannot turn into an event
	// when the rule sets nothing: dead_letter (default), skip or stop.
	OnError string `yaml:"on_error,omitempty"`
	// LookupTimeout bounds each lookup query: the server cancels it after
	// this long, or when it waits this long for a lock (default 5s). A
	// timed-out lookup is retried like a lost connection.
	LookupTimeout time.Duration `yaml:"lookup_timeout,omitempty"`
}

// Spec is one rule as written in the rules section. Order matters: the
// events of one change keep the order of the rules that produced them.
type Spec struct {
	Name    string            `yaml:"name"`
	Table   string            `yaml:"table,omitempty"`  // "orders" means "public.orders"
	Tables  []string          `yaml:"tables,omitempty"` // instead of table
	On      []string          `yaml:"on"`               // insert, update, delete, snapshot
	When    string            `yaml:"when,omitempty"`   // an expression; empty matches every row
	Lookups map[string]Lookup `yaml:"lookups,omitempty"`
	Event   EventSpec         `yaml:"event"`
	OnError string            `yaml:"on_error,omitempty"` // dead_letter, skip or stop
}

// Lookup is a parameterized SQL query whose first row the event can use as
// lookup.<name>.<column>. It sees the database as it is when the rule runs.
type Lookup struct {
	SQL   string        `yaml:"sql"`
	Args  []string      `yaml:"args,omitempty"`  // one expression per $n placeholder
	Cache time.Duration `yaml:"cache,omitempty"` // result TTL; 0 disables caching
}

// EventSpec is the event a rule emits. In every value a string starting
// with "=" is an expression (the rest, trimmed); anything else is a literal
// with its YAML type.
type EventSpec struct {
	Type    string         `yaml:"type"`             // literal only, so $purchase can be checked at load
	Email   string         `yaml:"email"`            // literal or expression
	Date    string         `yaml:"date,omitempty"`   // time.Time or RFC 3339 string; default: commit time
	Source  string         `yaml:"source,omitempty"` // literal; default: defaults.source
	Fields  map[string]any `yaml:"fields,omitempty"` // flat: scalar values only
	Details map[string]any `yaml:"details,omitempty"`
}

// OnError says what happens to a row a rule cannot turn into an event.
type OnError uint8

const (
	DeadLetter OnError = iota // emit an ItemFailure; the stream goes on
	Skip                      // emit nothing; the stream goes on
	Stop                      // return a *RuleError from Evaluate
)

var onErrorNames = [...]string{DeadLetter: "dead_letter", Skip: "skip", Stop: "stop"}

func parseOnError(s string) (OnError, bool) {
	for i, n := range onErrorNames {
		if n == s {
			return OnError(i), true
		}
	}
	return 0, false
}

func (o OnError) String() string {
	if int(o) < len(onErrorNames) {
		return onErrorNames[o]
	}
	return "on_error(?)"
}
