package bentofake

import (
	"encoding/json"
	"strconv"
)

// PurchaseTotals sums details.value.amount of $purchase events per email,
// counting each details.unique.key once (as Bento does), so the result is
// what Bento's LTV would show.
func (b *Bento) PurchaseTotals() map[string]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	totals := map[string]int64{}
	seen := map[[2]string]bool{}
	for _, ev := range b.received {
		if ev.Type != "$purchase" {
			continue
		}
		if key := uniqueKey(ev.Details); key != "" {
			if seen[[2]string{ev.Email, key}] {
				continue
			}
			seen[[2]string{ev.Email, key}] = true
		}
		totals[ev.Email] += amount(ev.Details)
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
