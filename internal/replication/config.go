package replication

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgbento/cdc/internal/stream"
)

// Config says where to replicate from. The lead embeds it in the config file
// under `source:`.
type Config struct {
	// DSN is a normal libpq/pgx connection string. It is a secret: never log
	// it; log Target() instead.
	DSN            string        `yaml:"dsn"`
	Slot           string        `yaml:"slot"`            // default "cdc_bento"
	Publication    string        `yaml:"publication"`     // default "cdc_bento"
	Schema         string        `yaml:"schema"`          // the syncer's own schema, default "cdc"
	Tables         []string      `yaml:"-"`               // schema-qualified tables to publish
	StatusInterval time.Duration `yaml:"status_interval"` // default 10s
	Heartbeat      time.Duration `yaml:"heartbeat"`       // default 30s
	QueueSize      int           `yaml:"queue_size"`      // default 1024
	QueueBytes     int64         `yaml:"queue_bytes"`     // default 32 MiB: bytes of decoded changes queued
	// OnSlotLost is what run does when the checkpoint's slot is lost
	// (slotidentity.go): OnSlotLostStop (default) or OnSlotLostResync.
	OnSlotLost string `yaml:"on_slot_lost"`
	// PartitionMoves is how a DELETE directly followed by an INSERT of the
	// same key in another partition of a partitioned table reaches the
	// rules (partmove.go): PartitionMovesMerge (default), one update, or
	// PartitionMovesSplit, a delete and an insert as written in the WAL.
	PartitionMoves string `yaml:"partition_moves"`
}

// How partition moves reach the rules.
const (
	PartitionMovesMerge = "merge"
	PartitionMovesSplit = "split"
)

// What run does about a lost slot.
const (
	OnSlotLostStop   = "stop"   // exit non-zero with the recovery
	OnSlotLostResync = "resync" // re-create the slot and backfill from its snapshot
)

// Defaults applied by SetDefaults.
const (
	DefaultSlot           = "cdc_bento"
	DefaultPublication    = "cdc_bento"
	DefaultSchema         = "cdc"
	DefaultStatusInterval = 10 * time.Second
	DefaultHeartbeat      = 30 * time.Second
	DefaultQueueSize      = 1024
	DefaultQueueBytes     = 32 << 20
)

// SetDefaults fills every unset field with its documented default.
func (c *Config) SetDefaults() {
	if c.Slot == "" {
		c.Slot = DefaultSlot
	}
	if c.Publication == "" {
		c.Publication = DefaultPublication
	}
	if c.Schema == "" {
		c.Schema = DefaultSchema
	}
	if c.StatusInterval <= 0 {
		c.StatusInterval = DefaultStatusInterval
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.OnSlotLost == "" {
		c.OnSlotLost = OnSlotLostStop
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.PartitionMoves == "" {
		c.PartitionMoves = PartitionMovesMerge
	}
}

// Validate reports every problem with the config at once, each a
// *stream.FieldError with its path under source. It never includes the
// DSN's text in an error, since the DSN may hold a password.
func (c *Config) Validate() []error {
	var errs []error
	bad := func(path, msg string) { errs = append(errs, &stream.FieldError{Path: "source." + path, Msg: msg}) }
	if c.DSN == "" {
		bad("dsn", "required (or source.dsn_file), e.g. dsn: ${DATABASE_URL}")
	} else if _, err := pgconn.ParseConfig(c.DSN); err != nil {
		bad("dsn", "not a valid connection string (value not shown: it may hold a password)")
	}
	for _, f := range [][2]string{{"slot", c.Slot}, {"publication", c.Publication}, {"schema", c.Schema}} {
		if !stream.IsPlainIdentifier(f[1]) {
			bad(f[0], fmt.Sprintf("%q must be lowercase letters, digits and _ (at most 63)", f[1]))
		}
	}
	if c.OnSlotLost != "" && c.OnSlotLost != OnSlotLostStop && c.OnSlotLost != OnSlotLostResync {
		bad("on_slot_lost", fmt.Sprintf("%q must be stop or resync", c.OnSlotLost))
	}
	if c.PartitionMoves != "" && c.PartitionMoves != PartitionMovesMerge && c.PartitionMoves != PartitionMovesSplit {
		bad("partition_moves", fmt.Sprintf("%q must be merge or split", c.PartitionMoves))
	}
	for _, t := range c.Tables {
		if _, _, err := SplitTable(t); err != nil {
			bad("tables", err.Error())
		}
	}
	return errs
}

// Target names the database for logs without any secret: "host:port/db".
func (c *Config) Target() string {
	pc, err := pgconn.ParseConfig(c.DSN)
	if err != nil {
		return "(invalid dsn)"
	}
	return fmt.Sprintf("%s:%d/%s", pc.Host, pc.Port, pc.Database)
}
