package stream

// Size estimates the memory a change holds, for the queues' byte budgets:
// string and byte values by length, everything else by a fixed overhead.
// It is an estimate: what matters is that a 2 MB value counts as 2 MB.
func (c *Change) Size() int64 {
	n := int64(128 + len(c.Table) + len(c.Prefix) + len(c.Content))
	return n + rowSize(c.New) + rowSize(c.Old)
}

func rowSize(r Row) int64 {
	var n int64
	for k, v := range r {
		n += int64(len(k)) + valueSize(v)
	}
	return n
}

func valueSize(v any) int64 {
	const overhead = 16
	switch v := v.(type) {
	case string:
		return overhead + int64(len(v))
	case []byte:
		return overhead + int64(len(v))
	case Numeric:
		return overhead + int64(len(v))
	case map[string]any:
		return overhead + rowSize(Row(v))
	case []any:
		n := int64(overhead)
		for _, e := range v {
			n += valueSize(e)
		}
		return n
	}
	return overhead
}

// Size estimates the memory an item holds while queued for delivery.
func (it *Item) Size() int64 {
	n := int64(64)
	if it.Failure != nil {
		n += int64(len(it.Failure.Change) + len(it.Failure.Event) + len(it.Failure.Reason))
	}
	return n
}
