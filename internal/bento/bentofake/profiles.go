package bentofake

import "strings"

// profiles are Bento's subscribers: an event lands on the subscriber its
// email names (created on first sight), and change_email gives a subscriber
// a new address. What Bento does when the new address already has a
// subscriber is not documented; the fake moves the address to the changed
// subscriber (the other one keeps its events but can no longer be named).
type profiles struct {
	byEmail map[string]int
	emails  []string // by subscriber id
}

func newProfiles() profiles { return profiles{byEmail: map[string]int{}} }

// of returns the subscriber an email names, creating it.
func (p *profiles) of(email string) int {
	k := normalize(email)
	if id, ok := p.byEmail[k]; ok {
		return id
	}
	p.emails = append(p.emails, k)
	p.byEmail[k] = len(p.emails) - 1
	return len(p.emails) - 1
}

// changeEmail moves the subscriber of old to newEmail; unknown old: nothing.
func (p *profiles) changeEmail(old, newEmail string) {
	o, n := normalize(old), normalize(newEmail)
	id, ok := p.byEmail[o]
	if !ok || o == n {
		return
	}
	if other, taken := p.byEmail[n]; taken {
		p.emails[other] = ""
	}
	delete(p.byEmail, o)
	p.byEmail[n] = id
	p.emails[id] = n
}

// email is a subscriber's current address ("" when it has none).
func (p *profiles) email(id int) string { return p.emails[id] }

// normalize is how Bento compares addresses: case-insensitively.
func normalize(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
