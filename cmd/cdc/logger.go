package main

import (
	"io"
	"log/slog"
	"time"
)

// newLogger builds the process logger from the config's log section.
// Durations are written as Go duration strings ("1.2s"), not nanoseconds.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: durationString}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// newCommandLogger is the logger of a one-shot command that prints its own
// result (reconcile): its stderr gets warnings and errors only,
// not the INFO lines meant for the syncer's logs, unless log.level is
// debug.
func newCommandLogger(w io.Writer, level, format string) *slog.Logger {
	if level != "debug" && level != "error" {
		level = "warn"
	}
	return newLogger(w, level, format)
}

// durationString writes a duration attribute as "1.2s", rounded to three
// significant figures or so: log readers want 1.23s, not 1.234567891s.
func durationString(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindDuration {
		return a
	}
	d := a.Value.Duration()
	switch {
	case d >= time.Second:
		d = d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		d = d.Round(10 * time.Microsecond)
	}
	return slog.String(a.Key, d.String())
}
