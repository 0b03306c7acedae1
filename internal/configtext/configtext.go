// Package configtext writes the syncer's config file for the programs that
// make one instead of a person: the tests, the end-to-end tests and the
// benchmark. It owns only the text; what each key means is documented in
// README.md and decided by the package that reads the section.
package configtext

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// File is a config file. Zero values leave a key out (the syncer's default
// applies); RequestsPerMinute is always written, so 0 means unlimited.
type File struct {
	// Rules is the rules section (with defaults), as YAML. With RulesFirst
	// it comes before everything else, so a rule's line number is the same
	// as in the file it came from.
	Rules      string
	RulesFirst bool

	DSN, Slot, Publication, Schema string
	Heartbeat, StatusInterval      time.Duration
	SourceQueueSize                int
	SourceExtra                    string // more lines under source:, indented

	SiteUUID, BentoURL   string
	RequestsPerMinute    float64
	BatchSize, QueueSize int
	MaxBackoff, Timeout  time.Duration
	BentoExtra           string // more lines under bento:, indented
	HTTPAddr             string
	LogLevel, LogFormat  string
	ShutdownTimeout      time.Duration
	Extra                string // more top-level YAML
}

// YAML renders the file.
func (f File) YAML() string {
	var b strings.Builder
	if f.RulesFirst {
		line(&b, f.Rules)
	}
	b.WriteString("source:\n")
	key(&b, "dsn", quoted(f.DSN))
	key(&b, "slot", f.Slot)
	key(&b, "publication", f.Publication)
	key(&b, "schema", f.Schema)
	key(&b, "heartbeat", duration(f.Heartbeat))
	key(&b, "status_interval", duration(f.StatusInterval))
	key(&b, "queue_size", count(f.SourceQueueSize))
	line(&b, f.SourceExtra)
	b.WriteString("bento:\n")
	key(&b, "site_uuid", f.SiteUUID)
	key(&b, "base_url", quoted(f.BentoURL))
	key(&b, "requests_per_minute", strconv.FormatFloat(f.RequestsPerMinute, 'f', -1, 64))
	key(&b, "max_backoff", duration(f.MaxBackoff))
	key(&b, "timeout", duration(f.Timeout))
	key(&b, "batch_size", count(f.BatchSize))
	key(&b, "queue_size", count(f.QueueSize))
	line(&b, f.BentoExtra)
	if f.HTTPAddr != "" {
		fmt.Fprintf(&b, "http:\n  addr: %s\n", f.HTTPAddr)
	}
	if f.LogLevel != "" || f.LogFormat != "" {
		b.WriteString("log:\n")
		key(&b, "level", f.LogLevel)
		key(&b, "format", f.LogFormat)
	}
	if f.ShutdownTimeout > 0 {
		fmt.Fprintf(&b, "shutdown_timeout: %s\n", f.ShutdownTimeout)
	}
	line(&b, f.Extra)
	if !f.RulesFirst {
		line(&b, f.Rules)
	}
	return b.String()
}

// key writes "  name: value" under the current section, unless value is "".
func key(b *strings.Builder, name, value string) {
	if value != "" {
		fmt.Fprintf(b, "  %s: %s\n", name, value)
	}
}

// line writes s as it is, ending it with a newline.
func line(b *strings.Builder, s string) {
	if s == "" {
		return
	}
	b.WriteString(s)
	if !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
}

func quoted(s string) string {
	if s == "" {
		return ""
	}
	return strconv.Quote(s)
}

func duration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.String()
}

func count(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}
