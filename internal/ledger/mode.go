package ledger

import (
	"fmt"

	"github.com/pgbento/cdc/internal/stream"
)

// Mode says which accepted events are recorded.
type Mode string

const (
	// ModePurchases records value events (details.value or
	// details.unique.key, such as $purchase) and Bento commands.
	ModePurchases Mode = "purchases"
	// ModeAll records every accepted event.
	ModeAll Mode = "all"
	// ModeOff records nothing.
	ModeOff Mode = "off"
)

// DefaultMode is the mode when the config says nothing.
const DefaultMode = ModePurchases

// ParseMode checks a config value; "" is DefaultMode.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "":
		return DefaultMode, nil
	case ModePurchases, ModeAll, ModeOff:
		return Mode(s), nil
	}
	return "", fmt.Errorf("ledger %q: use purchases, all or off", s)
}

// commands are the event types that are Bento commands rather than events
// (issue 11's change_email): they move a person, so they are recorded with
// the purchases.
var commands = map[string]bool{"$change_email": true}

// Keep reports whether d is recorded under m.
func (m Mode) Keep(d *stream.Delivered) bool {
	switch m {
	case ModeAll:
		return true
	case ModePurchases:
		return d.Value.HasAmount || d.Value.UniqueKey != "" || commands[d.Type]
	}
	return false
}

// Filter returns the records of ds that m keeps, reusing ds's array.
func (m Mode) Filter(ds []stream.Delivered) []stream.Delivered {
	if m == ModeAll {
		return ds
	}
	out := ds[:0]
	for i := range ds {
		if m.Keep(&ds[i]) {
			out = append(out, ds[i])
		}
	}
	return out
}
