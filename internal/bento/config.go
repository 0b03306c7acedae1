package bento

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pgbento/cdc/internal/stream"
)

// Transports.
const (
	TransportWebhook   = "webhook"
	TransportEventsAPI = "events_api"
)

// Default base URLs per transport.
const (
	DefaultWebhookURL   = "https://track.bentonow.com"
	DefaultEventsAPIURL = "https://app.bentonow.com"
)

// MaxBatchSize is Bento's limit of events per request.
const MaxBatchSize = 1000

// Config is the `bento:` section of the config file.
type Config struct {
	Transport         string            `yaml:"transport"`           // "webhook" (default) | "events_api"
	SiteUUID          string            `yaml:"site_uuid"`           // the Bento site
	BaseURL           string            `yaml:"base_url"`            // empty: the transport's default
	PublishableKey    string            `yaml:"publishable_key"`     // events_api; Basic auth user
	SecretKey         string            `yaml:"secret_key"`          // events_api; Basic auth password (secret)
	Headers           map[string]string `yaml:"headers"`             // extra request headers; values are secret
	SigningSecret     string            `yaml:"signing_secret"`      // optional HMAC-SHA256 body signing
	BatchSize         int               `yaml:"batch_size"`          // events per request, 1..1000
	BatchBytes        int               `yaml:"batch_bytes"`         // request body bytes (soft limit)
	RequestsPerMinute float64           `yaml:"requests_per_minute"` // 0 = unlimited
	Concurrency       int               `yaml:"concurrency"`         // partitions (by email) sending at once
	Timeout           time.Duration     `yaml:"timeout"`             // per request
	MaxBackoff        time.Duration     `yaml:"max_backoff"`         // cap of the retry interval
	QueueSize         int               `yaml:"queue_size"`          // items held before Enqueue blocks
	SendNulls         bool              `yaml:"send_nulls"`          // send null fields/details values (default: left out)
	QueueBytes        int64             `yaml:"queue_bytes"`         // estimated bytes held before Enqueue blocks
	CoalesceFields    bool              `yaml:"coalesce_fields"`     // merge consecutive $update_fields per subscriber in a batch (coalesce.go)
}

// Defaults.
const (
	DefaultBatchSize         = 500
	DefaultBatchBytes        = 1 << 20
	DefaultRequestsPerMinute = 60
	DefaultTimeout           = 30 * time.Second
	DefaultMaxBackoff        = 5 * time.Second
	DefaultQueueSize         = 2000
	DefaultQueueBytes        = 32 << 20
)

// SetDefaults fills zero fields with their defaults. Call it before decoding
// the YAML onto the struct: then an explicit `requests_per_minute: 0` keeps
// its meaning (unlimited). BaseURL is left empty and resolved per transport
// when used, so the call order does not matter for it.
func (c *Config) SetDefaults() {
	if c.Transport == "" {
		c.Transport = TransportWebhook
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	if c.RequestsPerMinute == 0 {
		c.RequestsPerMinute = DefaultRequestsPerMinute
	}
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.QueueBytes == 0 {
		c.QueueBytes = DefaultQueueBytes
	}
}

// Validate reports every problem with the section at once, each a
// *stream.FieldError with its path under bento. It never includes a key's
// or a header's value, since they are secrets.
func (c Config) Validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &stream.FieldError{Path: "bento." + key, Msg: fmt.Sprintf(format, args...)})
	}
	switch c.Transport {
	case TransportWebhook, TransportEventsAPI, "":
	default:
		bad("transport", "must be %q or %q, got %q", TransportWebhook, TransportEventsAPI, c.Transport)
	}
	if c.SiteUUID == "" {
		bad("site_uuid", "is required")
	}
	if c.Transport == TransportEventsAPI {
		if c.PublishableKey == "" {
			bad("publishable_key", "is required with transport events_api")
		}
		if c.SecretKey == "" {
			bad("secret_key", "is required with transport events_api")
		}
		for k := range c.Headers {
			if strings.EqualFold(k, "Authorization") {
				bad("headers."+k, "cannot be set with transport events_api: it would be replaced by the Basic auth of publishable_key and secret_key")
			}
		}
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("base_url", "must be an absolute http(s) URL (value not shown: it may hold a token)")
		}
	}
	if c.BatchSize < 1 || c.BatchSize > MaxBatchSize {
		bad("batch_size", "must be between 1 and %d, got %d", MaxBatchSize, c.BatchSize)
	}
	if c.BatchBytes < 1024 {
		bad("batch_bytes", "must be at least 1024, got %d", c.BatchBytes)
	}
	if c.RequestsPerMinute < 0 {
		bad("requests_per_minute", "must not be negative (0 means unlimited), got %g", c.RequestsPerMinute)
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		bad("concurrency", "must be between 1 and 64, got %d", c.Concurrency)
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be positive, got %s", c.Timeout)
	}
	if c.MaxBackoff <= 0 {
		bad("max_backoff", "must be positive, got %s", c.MaxBackoff)
	}
	if c.QueueBytes < 0 {
		bad("queue_bytes", "must not be negative, got %d", c.QueueBytes)
	}
	if c.QueueSize < 1 {
		bad("queue_size", "must be at least 1, got %d", c.QueueSize)
	}
	return errs
}

// baseURL is the configured base URL or the transport's default.
func (c Config) baseURL() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	if c.Transport == TransportEventsAPI {
		return DefaultEventsAPIURL
	}
	return DefaultWebhookURL
}
