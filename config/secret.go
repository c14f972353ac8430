package config

import "fmt"

// Secret is a configured secret: an API key, a token, a DSN with a password.
// However it is printed or marshalled it shows "<secret>"; Reveal gives the
// value to the one place that sends it.
type Secret string

const masked = "<secret>"

// Reveal returns the secret in clear.
func (s Secret) Reveal() string { return string(s) }

// String returns "<secret>".
func (s Secret) String() string { return masked }

// Format prints "<secret>" for every verb, %#v and %x included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(masked)) }

// MarshalJSON gives "<secret>".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + masked + `"`), nil }

// MarshalYAML gives "<secret>".
func (s Secret) MarshalYAML() (any, error) { return masked, nil }
