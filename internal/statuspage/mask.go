package statuspage

import (
	"regexp"
	"strings"
)

var emailLike = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)

// masker hides emails in text shown on the page, unless disabled (log
// level debug, where the logs show them too).
type masker struct{ off bool }

// text masks every email-like substring of s: "ann@example.com" becomes
// "a•••@example.com".
func (m masker) text(s string) string {
	if m.off {
		return s
	}
	return emailLike.ReplaceAllStringFunc(s, func(e string) string {
		local, domain, _ := strings.Cut(e, "@")
		return local[:1] + "•••@" + domain
	})
}
