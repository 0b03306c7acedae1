package replication

import "github.com/pgbento/cdc/internal/stream"

// resumePoint decides which decoded changes were already handled before
// this replication session, so they are not emitted again (doc.go).
type resumePoint struct {
	commit   stream.LSN // transactions before this are done
	whole    bool       // the transaction at commit is done too
	first    int        // else changes before this index are done
	firstSub int        // and this many events of change first are done
}

// resumeAfterAck resumes after an acknowledged position: a commit marker
// (EndLSN set) ends its transaction; an event position {Index, Sub} means
// changes before Index and the first Sub events of change Index are done.
func resumeAfterAck(p stream.Position) resumePoint {
	if p.IsZero() {
		return resumePoint{}
	}
	if p.EndLSN != 0 {
		return resumePoint{commit: p.CommitLSN, whole: true}
	}
	return resumePoint{commit: p.CommitLSN, first: p.Index, firstSub: p.Sub}
}

// resumeAfterEmit resumes after the last change handed to the delivery
// side in this process, which already holds it.
func resumeAfterEmit(p stream.Position) resumePoint {
	if p.EndLSN != 0 {
		return resumePoint{commit: p.CommitLSN, whole: true}
	}
	return resumePoint{commit: p.CommitLSN, first: p.Index + 1}
}

// filter reports whether the change at pos is new and, if so, the Sub it
// must carry (how many of its events the delivery side must skip).
func (r resumePoint) filter(pos stream.Position) (emit bool, sub int) {
	switch {
	case pos.CommitLSN < r.commit:
		return false, 0
	case pos.CommitLSN > r.commit:
		return true, 0
	case r.whole || pos.Index < r.first:
		return false, 0
	case pos.Index == r.first:
		return true, r.firstSub
	}
	return true, 0
}
