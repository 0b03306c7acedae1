// Package examples embeds the example schema and rules so the demo and the
// tests use exactly the files the README shows. It owns those two files
// only; what the rules mean is package rules' business.
package examples

import _ "embed"

// Schema is examples/schema.sql.
//
//go:embed schema.sql
var Schema string

// Rules is examples/rules.yaml: the defaults and rules sections of a config.
//
//go:embed rules.yaml
var Rules string
