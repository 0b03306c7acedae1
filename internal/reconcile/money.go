package reconcile

import (
	"fmt"
	"slices"
	"strings"
)

// Money is an amount in cents per currency. Cents of different currencies
// are never added: a customer who paid in USD and EUR has two figures.
type Money map[string]int64

// add adds cents in cur ("" when the rule sent none).
func (m Money) add(cur string, cents int64) { m[cur] += cents }

// minus is m - o per currency, without the currencies where they agree.
func (m Money) minus(o Money) Money {
	d := Money{}
	for cur, v := range m {
		d[cur] = v - o[cur]
	}
	for cur, v := range o {
		if _, ok := m[cur]; !ok {
			d[cur] = -v
		}
	}
	for cur, v := range d {
		if v == 0 {
			delete(d, cur)
		}
	}
	return d
}

// String is "USD 12000, EUR 2433" (currencies in alphabetical order), "0"
// when there is nothing.
func (m Money) String() string { return m.format("%s %d") }

// Signed is String with a sign on every figure ("EUR -100"), for drift.
func (m Money) Signed() string { return m.format("%s %+d") }

func (m Money) format(layout string) string {
	if len(m) == 0 {
		return "0"
	}
	curs := make([]string, 0, len(m))
	for cur := range m {
		curs = append(curs, cur)
	}
	slices.Sort(curs)
	parts := make([]string, len(curs))
	for i, cur := range curs {
		name := cur
		if name == "" {
			name = "(no currency)"
		}
		parts[i] = fmt.Sprintf(layout, name, m[cur])
	}
	return strings.Join(parts, ", ")
}

// abs is the sum of the absolute figures: a magnitude ("is there drift,
// and how much"), not an amount in any one currency.
func (m Money) abs() int64 {
	var n int64
	for _, v := range m {
		n += absInt(v)
	}
	return n
}

func absInt(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
