package replication

import (
	"encoding/binary"
	"errors"
	"fmt"
)

var errShort = errors.New("message shorter than its declared lengths")

// checkBounds walks the length fields of the messages pglogrepl would
// allocate by (tuple column lengths, truncate relation counts) and rejects
// ones that claim more bytes than they have. Without it a corrupt length
// makes pglogrepl allocate up to 16 GiB before it fails.
func checkBounds(data []byte) error {
	b := data[1:]
	switch data[0] {
	case 'I', 'D':
		if len(b) < 5 {
			return errShort
		}
		_, err := skipTuple(b[5:])
		return err
	case 'U':
		return checkUpdate(b)
	case 'T':
		if len(b) < 5 {
			return errShort
		}
		if n := binary.BigEndian.Uint32(b); uint64(n)*4 > uint64(len(b)-5) {
			return fmt.Errorf("truncate of %d relations: %w", n, errShort)
		}
	}
	return nil
}

func checkUpdate(b []byte) error {
	if len(b) < 5 {
		return errShort
	}
	kind, rest := b[4], b[5:]
	if kind == 'K' || kind == 'O' {
		var err error
		if rest, err = skipTuple(rest); err != nil {
			return err
		}
		if len(rest) < 1 {
			return errShort
		}
		rest = rest[1:] // the 'N' before the new tuple
	}
	_, err := skipTuple(rest)
	return err
}

// skipTuple returns what follows the TupleData at the start of b.
func skipTuple(b []byte) ([]byte, error) {
	if len(b) < 2 {
		return nil, errShort
	}
	n := binary.BigEndian.Uint16(b)
	b = b[2:]
	for range n {
		if len(b) < 1 {
			return nil, errShort
		}
		kind := b[0]
		b = b[1:]
		if kind != 't' && kind != 'b' {
			continue
		}
		if len(b) < 4 {
			return nil, errShort
		}
		l := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(l) > uint64(len(b)) {
			return nil, errShort
		}
		b = b[l:]
	}
	return b, nil
}
