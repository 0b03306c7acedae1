package pipeline_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

const profilesSchema = `
CREATE TABLE profiles (id bigint PRIMARY KEY, email text NOT NULL, prefs jsonb);
ALTER TABLE profiles REPLICA IDENTITY FULL;`

const profilesRules = `
defaults:
  on_error: dead_letter
rules:
  - name: prefs_changed
    table: profiles
    on: [insert]
    event:
      type: prefs
      email: "= new.email"
      details:
        prefs: "= new.prefs"
  - name: signup
    table: profiles
    on: [insert]
    event:
      type: signup
      email: "= new.email"
`

// TestDeepJSONFailsOnlyTheRulesThatReadIt: issue 10.6. JSON nested deeper
// than Go's decoder allows (Postgres accepts it) used to stop the syncer for
// good. Now the rule that reads it dead-letters the row, the rule that does
// not still sends its event, the dead letter is stored and replayable, and
// the stream goes on.
func TestDeepJSONFailsOnlyTheRulesThatReadIt(t *testing.T) {
	e := newEnvWith(t, profilesSchema, profilesRules, "")
	e.start(t)
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	e.db.Exec(t, `INSERT INTO profiles VALUES (1, 'ann@example.com', $1::text::jsonb)`, deep)
	e.db.Exec(t, `INSERT INTO profiles VALUES (2, 'bob@example.com', '{"news": true}')`)

	e.waitEvent(t, "signup", "ann@example.com")
	e.waitEvent(t, "prefs", "bob@example.com")
	d := e.ruleDeadLetters(t, "prefs_changed", 1)[0]
	require.Equal(t, "id=1", d.Key)
	require.Contains(t, d.Reason, "column prefs of public.profiles holds a value the syncer cannot represent")
	c, err := stream.UnmarshalChange(d.Change)
	require.NoError(t, err)
	_, ok := stream.AsUnrepresentable(c.New["prefs"])
	require.True(t, ok, "the stored change keeps the marker, so a replay fails the same way: %T", c.New["prefs"])
	require.Equal(t, "ann@example.com", c.New["email"])
}
