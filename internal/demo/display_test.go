package demo

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func ltvRows(n int, behind ...int) []ltvRow {
	rows := make([]ltvRow, n)
	for i := range rows {
		rows[i] = ltvRow{email: "c" + string(rune('a'+i)) + "@example.com", bento: int64(1000 - i), dbSum: int64(1000 - i)}
	}
	for _, i := range behind {
		rows[i].bento -= 500
	}
	return rows
}

// TestLTVShowsTopTenAndSummarisesTheRest: the screen says it shows the top
// 10, and a customer behind below the fold is still counted.
func TestLTVShowsTopTenAndSummarisesTheRest(t *testing.T) {
	var b strings.Builder
	writeLTV(&b, ltvRows(13, 2, 11), 10)
	s := b.String()
	require.Contains(t, s, "top 10 of 13 by database total")
	require.Contains(t, s, "the other 3 customers: 2 agree, 1 catching up")
	require.NotContains(t, s, ltvRows(13)[11].email)

	b.Reset()
	writeLTV(&b, ltvRows(12), 10)
	require.Contains(t, b.String(), "the other 2 customers: all agree")

	b.Reset()
	writeLTV(&b, ltvRows(4), 10)
	require.Contains(t, b.String(), "top 4 of 4")
	require.NotContains(t, b.String(), "the other")
}

// TestMismatchNamesTheCustomers: a failed totals check says who differs and
// by how much.
func TestMismatchNamesTheCustomers(t *testing.T) {
	rows := ltvRows(13, 2, 11)
	err := mismatchError(differing(rows), len(rows))
	require.EqualError(t, err, "the stand-in's purchase totals differ from the database's for 2 of 13 customers:\n"+
		"  cc@example.com: stand-in $4.98, database $9.98\n"+
		"  cl@example.com: stand-in $4.89, database $9.89")
}
