package bentofake

import (
	"encoding/json"
	"strconv"
)

// PurchaseTotals sums details.value.amount of $purchase events per
// subscriber, counting each details.unique.key once (as Bento does), keyed
// by the subscriber's current email: what Bento's LTV would show. A
// subscriber whose email changed (change_email) is listed under the new
// one; a purchase that reached the new address before the change landed on
// another subscriber, so its LTV splits.
func (b *Bento) PurchaseTotals() map[string]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	totals := map[string]int64{}
	type seenKey struct {
		profile int
		key     string
	}
	seen := map[seenKey]bool{}
	for _, ev := range b.received {
		if ev.Type != "$purchase" {
			continue
		}
		if key := uniqueKey(ev.Details); key != "" {
			if seen[seenKey{ev.Profile, key}] {
				continue
			}
			seen[seenKey{ev.Profile, key}] = true
		}
		email := b.profiles.email(ev.Profile)
		if email == "" {
			email = "(unreachable) " + ev.Email
		}
		totals[email] += amount(ev.Details)
	}
	return totals
}

// UniqueKey is a purchase's details.unique.key as text ("" when absent).
func (ev ReceivedEvent) UniqueKey() string { return uniqueKey(ev.Details) }

func uniqueKey(details map[string]any) string {
	u, _ := details["unique"].(map[string]any)
	switch k := u["key"].(type) {
	case string:
		return k
	case json.Number:
		return k.String()
	}
	return ""
}

func amount(details map[string]any) int64 {
	v, _ := details["value"].(map[string]any)
	switch a := v["amount"].(type) {
	case json.Number:
		if n, err := a.Int64(); err == nil {
			return n
		}
		f, _ := a.Float64()
		return int64(f)
	case string:
		n, _ := strconv.ParseInt(a, 10, 64)
		return n
	}
	return 0
}
