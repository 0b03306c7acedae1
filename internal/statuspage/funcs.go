package statuspage

import (
	"fmt"
	"html/template"
	"time"
)

var funcs = template.FuncMap{
	"bytes": humanBytes,
	"seconds": func(s float64) string {
		return (time.Duration(s * float64(time.Second))).Round(100 * time.Millisecond).String()
	},
	"ago":   func(d time.Duration) string { return d.String() + " ago" },
	"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"count": func(f float64) string { return fmt.Sprintf("%.0f", f) },
	"rate":  func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"pct": func(used, budget float64) string {
		if budget <= 0 {
			return ""
		}
		return fmt.Sprintf("%.0f%%", 100*used/budget)
	},
}

// humanBytes renders a WAL size: 0 B, 12.3 KiB, 4.0 MiB, 1.2 GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
