package rules

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// maxCacheEntries bounds the lookup cache; a lookup keyed by customer id
// would otherwise grow with the customer table.
const maxCacheEntries = 10000

type cacheKey struct {
	l    *lookup
	args string
}

type cacheEntry struct {
	row     map[string]any
	expires time.Time
	gen     uint64 // the lookup's generation when the row was read
}

// lookupCache keeps lookup rows for their rule's TTL. Rows are shared
// between events and must not be modified. A change to a table a lookup
// reads invalidates that lookup's rows (a new generation), so a cached
// email is never served after the stream showed it changing.
type lookupCache struct {
	entries map[cacheKey]cacheEntry
	gens    map[*lookup]uint64
	now     func() time.Time
}

func newLookupCache() *lookupCache {
	return &lookupCache{entries: map[cacheKey]cacheEntry{}, gens: map[*lookup]uint64{}, now: time.Now}
}

func (c *lookupCache) get(k cacheKey) (map[string]any, bool) {
	e, ok := c.entries[k]
	if !ok || e.gen != c.gens[k.l] || !c.now().Before(e.expires) {
		return nil, false
	}
	return e.row, true
}

// invalidate forgets every cached row of l.
func (c *lookupCache) invalidate(l *lookup) { c.gens[l]++ }

func (c *lookupCache) put(k cacheKey, row map[string]any, ttl time.Duration) {
	now := c.now()
	if len(c.entries) >= maxCacheEntries {
		for key, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, key)
			}
		}
	}
	if len(c.entries) >= maxCacheEntries {
		clear(c.entries)
	}
	c.entries[k] = cacheEntry{row: row, expires: now.Add(ttl), gen: c.gens[k.l]}
}

// argsKey renders args with their types, so 1 and "1" are different keys.
func argsKey(args []any) string {
	var b strings.Builder
	for _, a := range args {
		fmt.Fprintf(&b, "%T:%v\x00", a, a)
	}
	return b.String()
}

// sqlName matches identifiers, schema-qualified or not, in a lookup's SQL.
var sqlName = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?`)

// mentions reports whether sql names table ("schema.table"), qualified or
// not. It over-approximates (a column with the table's name counts), which
// only costs a cache miss.
func mentions(sql, table string) bool {
	_, bare, _ := strings.Cut(table, ".")
	for _, name := range sqlName.FindAllString(sql, -1) {
		name = strings.ToLower(name)
		if name == table || name == bare {
			return true
		}
	}
	return false
}

// cachedReaders maps each watched table to the cached lookups that read it.
func cachedReaders(rules []*rule, tables []string) map[string][]*lookup {
	out := map[string][]*lookup{}
	for _, r := range rules {
		for _, l := range r.lookups {
			for _, t := range tables {
				if l.ttl > 0 && mentions(l.sql, t) {
					out[t] = append(out[t], l)
				}
			}
		}
	}
	return out
}
