package replication

import (
	"context"
	"fmt"
	"time"
)

// A domain column reaches us under the domain's own type OID (pgoutput's
// Relation message names it), which internal/pgvalue does not know, so it
// would decode as text, while a lookup of the same column, whose
// RowDescription names the base type, decodes it as a number or a time.
// The decoder resolves each domain column to its base type when the
// Relation message arrives: one catalog read per relation, none per row,
// and none for a relation whose columns are all built-in types.

// resolveDomains replaces the type of each of rel's domain columns with the
// domain's base type (BaseTypes, through the decoder's baseTypes).
func (d *decoder) resolveDomains(rel *relation) error {
	if d.baseTypes == nil {
		return nil
	}
	oids := make([]uint32, len(rel.cols))
	for i, c := range rel.cols {
		oids[i] = c.oid
	}
	base, err := d.baseTypes(rel.table, oids)
	if err != nil {
		return err
	}
	for i := range rel.cols {
		rel.cols[i].oid = base[i]
	}
	return nil
}

// baseTypes is BaseTypes on the reader's normal connection. A failed read
// is a catalogError: decoding the relation's rows as text instead would
// silently change what the rules see.
func (r *Reader) baseTypes(ctx context.Context, table string, oids []uint32) ([]uint32, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	base, err := BaseTypes(ctx, r.store.pool, oids)
	if err != nil {
		return nil, &catalogError{fmt.Errorf("resolve column types of %s: %w", table, err)}
	}
	return base, nil
}
