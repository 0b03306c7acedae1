package pgvalue

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// parseISOTimestamp reads the one text form a timestamp takes on the
// replication connection (DateStyle ISO, TimeZone UTC, see
// SessionSettings): "2026-11-30 08:27:00.123456", with "+00" after it for
// timestamptz. It reports false for anything else (BC dates, years past
// 9999, infinity, another offset), which pgx then parses: pgx's scan costs
// several allocations per value and most rows carry timestamps (issue 14,
// item 2). timestamp_test.go fuzzes it against pgx.
func parseISOTimestamp(oid uint32, s []byte) (time.Time, bool) {
	if oid == pgtype.TimestamptzOID {
		n := len(s) - len("+00")
		if n < 0 || string(s[n:]) != "+00" {
			return time.Time{}, false
		}
		s = s[:n]
	}
	if len(s) < len("2006-01-02 15:04:05") || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	nsec, ok7 := fraction(s[19:])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || year < 1 || month < 1 || month > 12 || day < 1 ||
		day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

// fraction reads "" or "." and one to six digits as nanoseconds.
func fraction(s []byte) (int, bool) {
	if len(s) == 0 {
		return 0, true
	}
	if s[0] != '.' || len(s) < 2 || len(s) > 7 {
		return 0, false
	}
	n, ok := digits(s[1:])
	for range 9 - (len(s) - 1) {
		n *= 10
	}
	return n, ok
}

func digits(s []byte) (int, bool) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
