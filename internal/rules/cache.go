package rules

import (
	"fmt"
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
}

// lookupCache keeps lookup rows for their rule's TTL. Rows are shared
// between events and must not be modified.
type lookupCache struct {
	entries map[cacheKey]cacheEntry
	now     func() time.Time
}

func newLookupCache() *lookupCache {
	return &lookupCache{entries: map[cacheKey]cacheEntry{}, now: time.Now}
}

func (c *lookupCache) get(k cacheKey) (map[string]any, bool) {
	e, ok := c.entries[k]
	if !ok || !c.now().Before(e.expires) {
		return nil, false
	}
	return e.row, true
}

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
	c.entries[k] = cacheEntry{row: row, expires: now.Add(ttl)}
}

// argsKey renders args with their types, so 1 and "1" are different keys.
func argsKey(args []any) string {
	var b strings.Builder
	for _, a := range args {
		fmt.Fprintf(&b, "%T:%v\x00", a, a)
	}
	return b.String()
}
