package replication

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// publicationHint explains a publication the slot cannot find (issue
// 10.5). pgoutput looks the publication up with the catalog as it was
// when the change being decoded was written, so a publication dropped and
// re-created while the slot existed stays missing for every change between
// the drop and the re-creation: `cdc setup` cannot fix that, only moving
// the slot past the re-creation can, and what changed in between must then
// be sent again by a backfill.
func (r *Reader) publicationHint(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	fix := fmt.Sprintf("stop cdc, run SELECT pg_replication_slot_advance('%s', pg_current_wal_lsn()); "+
		"then start cdc and send the rows changed since the drop again with cdc backfill --all --restart "+
		"(the stream skips every change before that position; purchases are deduplicated by their unique key)", r.cfg.Slot)
	p, err := ReadPublication(ctx, r.store.pool, r.cfg.Publication)
	if err == nil && p.Exists {
		return fmt.Sprintf(" (publication %q was dropped and re-created while slot %q existed: the slot decodes WAL "+
			"from before the re-creation, where the publication did not exist, so cdc setup cannot fix it; to recover: %s)",
			r.cfg.Publication, r.cfg.Slot, fix)
	}
	return fmt.Sprintf(" (cdc setup creates it; if it was dropped while slot %q existed, this error persists after "+
		"setup because the slot decodes WAL from before the re-creation; to recover then: %s)", r.cfg.Slot, fix)
}

// missingPublication reports whether err is the server saying the
// publication does not exist.
func missingPublication(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42704" && strings.HasPrefix(pgErr.Message, "publication ")
}
