package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Retention says how long the lock store keeps what ages: the audit trail's
// entries (and lifted locks of people no longer locked), and the records of
// passes. Active locks and the history of the people they lock are kept
// whatever their age.
type Retention struct {
	// Audit is how long audit entries are kept. Default 5y.
	Audit Age `yaml:"audit"`
	// Passes is how long the records of passes are kept. Default 90d.
	Passes Age `yaml:"passes"`
}

// Age is a length of time written as whole years (5y, of 365 days), whole
// days (90d) or a Go duration (72h).
type Age time.Duration

// UnmarshalYAML reads an Age.
func (a *Age) UnmarshalYAML(n *yaml.Node) error {
	d, err := ParseAge(n.Value)
	if err != nil {
		return err
	}
	*a = Age(d)
	return nil
}

// ParseAge reads an Age as the configuration writes it.
func ParseAge(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"y": 365 * 24 * time.Hour, "d": 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("want whole years (5y), days (90d) or a duration (72h), not %q", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want whole years (5y), days (90d) or a duration (72h), not %q", s)
	}
	return d, nil
}

// String writes the Age back in days or hours.
func (a Age) String() string {
	d := time.Duration(a)
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
