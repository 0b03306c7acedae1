package bento

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDeadLetterEncoding: whatever a dead letter carries, its stored form
// is JSON jsonb takes (no \u0000), what comes back is valid JSON, and JSON
// comes back byte for byte (issue 10.7).
func FuzzDeadLetterEncoding(f *testing.F) {
	for _, s := range []string{`{"a":"\u0000"}`, `{"cdc_base64":"eA=="}`, `{"cdc_base64":"x"}`, `not json`,
		"\x00\xff", `1e1000000`, `[[[]]]`, `{"op":"insert","new":{"a":1}}`, ` {"cdc_base64" : "QQ=="} `} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, force bool) {
		stored, _ := storedJSON(b, force).(string)
		if len(b) == 0 {
			require.Empty(t, stored)
			return
		}
		require.True(t, json.Valid([]byte(stored)), "stored %q", stored)
		require.NotContains(t, stored, `\u0000`)
		back := loadedJSON(stored)
		require.True(t, json.Valid(back), "loaded %q", back)
		if json.Valid(b) {
			require.True(t, bytes.Equal(b, back), "in %q, stored %q, back %q", b, stored, back)
		}
	})
}
