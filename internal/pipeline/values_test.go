package pipeline_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pipeline"
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
	e.Start(t)
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	e.DB.Exec(t, `INSERT INTO profiles VALUES (1, 'ann@example.com', $1::text::jsonb)`, deep)
	e.DB.Exec(t, `INSERT INTO profiles VALUES (2, 'bob@example.com', '{"news": true}')`)

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

// TestDeadLetterOfJSONWithNULIsStored: issue 10.7. A json value holding
// \u0000 (legal in json, refused by jsonb) in a row a rule fails on used to
// make the dead-letter insert fail forever and stall the queue behind it.
func TestDeadLetterOfJSONWithNULIsStored(t *testing.T) {
	e := newEnvWith(t, `CREATE TABLE notes (id bigint PRIMARY KEY, email text, doc json);`, `
rules:
  - name: note
    table: notes
    on: [insert]
    event:
      type: note
      email: "= new.email"
      details:
        doc: "= new.doc"
`, "")
	e.Start(t)
	e.DB.Exec(t, `INSERT INTO notes VALUES (1, NULL, '{"text": "a\u0000b"}')`)
	e.DB.Exec(t, `INSERT INTO notes VALUES (2, 'bob@example.com', '{"text": "fine"}')`)

	e.waitEvent(t, "note", "bob@example.com")
	d := e.ruleDeadLetters(t, "note", 1)[0]
	require.Equal(t, "id=1", d.Key)
	c, err := stream.UnmarshalChange(d.Change)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"text": "a\x00b"}, c.New["doc"], "the stored change is exactly what the rule saw")
}

// TestUnstorableDeadLetterMakesReadyzFail: issue 10.7. If a dead letter
// truly cannot be stored, delivery holds and /readyz says why, instead of
// "ok" while the queue stalls; once it can be stored, all is delivered.
func TestUnstorableDeadLetterMakesReadyzFail(t *testing.T) {
	e := newEnv(t, "")
	s, _ := e.StartWith(t, pipeline.Options{})
	require.Eventually(t, func() bool { ok, _ := s.Ready(); return ok }, 30*time.Second, 20*time.Millisecond)
	e.DB.Exec(t, `ALTER TABLE cdc.dead_letters RENAME TO dead_letters_away`)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('not an email', true)`)
	var why string
	require.Eventually(t, func() bool {
		_, why = s.Ready()
		return strings.HasPrefix(why, "bento: cannot store a dead letter")
	}, 30*time.Second, 20*time.Millisecond, "readyz never said why delivery stalled")
	require.Contains(t, why, "dead_letters")

	e.DB.Exec(t, `ALTER TABLE cdc.dead_letters_away RENAME TO dead_letters`)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ok@example.com', true)`)
	e.ruleDeadLetters(t, "subscribe_new_customer", 1)
	e.waitEvent(t, "$subscribe", "ok@example.com")
	require.Eventually(t, func() bool { ok, _ := s.Ready(); return ok }, 30*time.Second, 20*time.Millisecond)
}
