// Package pgtext owns how free text is made safe for a Postgres text
// column: stored content must never make a write fail. Postgres refuses, in
// text, a NUL byte and, in a UTF-8 database, invalid UTF-8.
package pgtext

import "strings"

// Safe is s as a text column always takes it: valid UTF-8 (invalid bytes
// become U+FFFD) with NUL written as the four characters `\x00`. The
// columns that use it are for people, not for replay.
func Safe(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", `\x00`)
}
