package lockworker_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lockworker/lockworker"
)

// kronoberg is Region Kronoberg's organisation number, which is Luhn-valid.
const kronoberg = "2321000065"

func TestParseHSAIDAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"without 16", "SE2321000065-E000000001234"},
		{"with 16", "SE162321000065-E000000001234"},
		{"one-character local part", "SE2321000065-1"},
		{"local part of lower case", "SE2321000065-abcxyz"},
		{"every punctuation allowed", "SE2321000065-A '()+,-./:=?z"},
		{"space at the end is a local-part character", "SE2321000065-ab "},
		{"31 characters without 16", "SE2321000065-" + strings.Repeat("a", 18)},
		{"31 characters with 16", "SE162321000065-" + strings.Repeat("9", 16)},
		{"another organisation", "SE2021005448-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := lockworker.ParseHSAID(tt.in)
			if err != nil {
				t.Fatalf("ParseHSAID(%q): %v", tt.in, err)
			}
			if h.String() != tt.in {
				t.Errorf("String() = %q, want the HSA-id as given, %q", h.String(), tt.in)
			}
			if h.IsZero() {
				t.Error("a parsed HSA-id is IsZero")
			}
			if want := strings.TrimPrefix(tt.in[2:], "16")[:10]; h.OrgNumber() != want {
				t.Errorf("OrgNumber() = %q, want %q", h.OrgNumber(), want)
			}
		})
	}
}

func TestHSAIDOrgNumberIsTheRegions(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"SE2321000065-7K3P", "SE162321000065-7K3P"} {
		h, err := lockworker.ParseHSAID(in)
		if err != nil {
			t.Fatalf("ParseHSAID(%q): %v", in, err)
		}
		if h.OrgNumber() != kronoberg {
			t.Errorf("ParseHSAID(%q).OrgNumber() = %q, want %q", in, h.OrgNumber(), kronoberg)
		}
	}
}

func TestParseHSAIDRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"SE only", "SE"},
		{"no SE", "2321000065-abc"},
		{"lower-case se", "se2321000065-abc"},
		{"another country", "NO2321000065-abc"},
		{"space before", " SE2321000065-abc"},
		{"wrong check digit", "SE2321000064-abc"},
		{"wrong check digit with 16", "SE162321000064-abc"},
		{"9-digit organisation number", "SE232100006-abc"},
		{"11-digit organisation number", "SE23210000650-abc"},
		{"12 digits not starting with 16", "SE172321000065-abc"},
		{"16 and 9 digits", "SE16232100006-abc"},
		{"16 twice", "SE16162321000065-abc"},
		{"letter in the organisation number", "SE232100006A-abc"},
		{"full-width digit in the organisation number", "SE232100006５-abc"},
		{"no dash", "SE2321000065abc"},
		{"no local part", "SE2321000065-"},
		{"organisation number only", "SE2321000065"},
		{"underscore", "SE2321000065-a_b"},
		{"Swedish letter", "SE2321000065-Åsa"},
		{"tab", "SE2321000065-a\tb"},
		{"semicolon", "SE2321000065-a;b"},
		{"at sign", "SE2321000065-a@b"},
		{"NUL", "SE2321000065-a\x00"},
		{"32 characters without 16", "SE2321000065-" + strings.Repeat("a", 19)},
		{"32 characters with 16", "SE162321000065-" + strings.Repeat("9", 17)},
		{"a personnummer", "196408233234"},
		{"a personnummer after SE", "SE196408233234-1"},
		{"a personnummer as local part, too long", "SE2321000065-196408233234-extra1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := lockworker.ParseHSAID(tt.in)
			if err == nil {
				t.Fatalf("ParseHSAID(%q) = %q, want an error", tt.in, h)
			}
			if !errors.Is(err, lockworker.ErrInvalidHSAID) {
				t.Errorf("error %q does not wrap ErrInvalidHSAID", err)
			}
			if !h.IsZero() || h.OrgNumber() != "" {
				t.Errorf("an invalid HSA-id gave the non-zero value %q", h)
			}
			// An HSA-id field may hold a personnummer typed by mistake, and
			// errors are logged: they must not repeat the input.
			if len(tt.in) >= 4 && strings.Contains(err.Error(), tt.in) {
				t.Errorf("error %q repeats the input", err)
			}
			if digits := asciiDigits(tt.in); len(digits) >= 10 && strings.Contains(err.Error(), digits) {
				t.Errorf("error %q repeats the input's digits", err)
			}
		})
	}
}

func TestValidOrgNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{kronoberg, true},
		{"2021005448", true},
		{"2321000064", false},
		{"3321000065", false},
		{"232100006", false},
		{"23210000650", false},
		{"162321000065", false},
		{"232100006A", false},
		{"232100006５", false},
		{"232100-0065", false},
		{" 2321000065", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := lockworker.ValidOrgNumber(tt.in); got != tt.want {
				t.Errorf("ValidOrgNumber(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// Each error of ParseHSAID names the rule the text breaks.
func TestParseHSAIDSaysWhichRuleFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		rule lockworker.HSAIDRule
	}{
		{"SE2321000065-" + strings.Repeat("a", 19), lockworker.HSAIDLength},
		{"2321000065-abc", lockworker.HSAIDPrefix},
		{"SE2321000065abc", lockworker.HSAIDSeparator},
		{"SE232100006-abc", lockworker.HSAIDOrgNumber},
		{"SE2321000064-abc", lockworker.HSAIDOrgNumberCheck},
		{"SE2321000065-", lockworker.HSAIDLocalPartMissing},
		{"SE2321000065-a_b", lockworker.HSAIDLocalPartChars},
	}
	for _, tt := range tests {
		_, err := lockworker.ParseHSAID(tt.in)
		var he *lockworker.HSAIDError
		if !errors.As(err, &he) || he.Rule != tt.rule || !errors.Is(err, lockworker.ErrInvalidHSAID) {
			t.Errorf("ParseHSAID(%q) = %v, want an HSAIDError of rule %d that is ErrInvalidHSAID", tt.in, err, tt.rule)
		}
	}
}
