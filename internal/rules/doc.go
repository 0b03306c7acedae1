// Package rules owns the rules section of the syncer's config: the rule
// types as written in YAML, their validation and compilation (once, at load),
// and their evaluation, which turns one stream.Change into zero or more
// stream.Items (events, or failures to dead-letter) in rule order.
//
// It does not own loading the config file, ${ENV} expansion or mapping a
// FieldError's path to a file and line (internal/config does), nor delivery,
// dead-letter storage or the replication stream. It performs I/O only for
// rule lookups, through a Querier the caller passes in.
//
// Rule expressions are github.com/expr-lang/expr programs over the env
// documented in env.go. Evaluation is deterministic for a given change:
// there is no now(); a lookup is the one exception, because it reads the
// database as it is when the rule runs, not as it was when the row changed.
package rules
