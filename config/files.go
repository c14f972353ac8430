package config

import (
	"bytes"
	"fmt"
	"os"
)

// readableFiles warns of the files that hold a secret and that others than
// their owner can read: the configuration file itself, when it holds a
// secret inline, and every secret file (the *_file settings, the TLS keys).
// It only warns: whether a group may read a file is the operator's call.
func (c *Config) readableFiles(path string, data []byte) []string {
	var warnings []string
	check := func(field, file string) {
		if file == "" {
			return
		}
		info, err := os.Stat(file)
		if err != nil || info.Mode().Perm()&0o077 == 0 {
			return
		}
		warnings = append(warnings, fmt.Sprintf("%s: %s can be read by others than its owner (mode %04o); make it 0600 or 0400",
			field, file, info.Mode().Perm()))
	}
	inline := false
	for _, s := range c.secrets() {
		if len(s) >= 4 && bytes.Contains(data, []byte(s.Reveal())) {
			inline = true
		}
	}
	if inline {
		check("the configuration file, which holds a secret", path)
	}
	check("lockstore.dsn_file", c.LockStore.DSNFile)
	check("log.pseudonym_key_file", c.Log.PseudonymKeyFile)
	check("admin.token_file", c.Admin.TokenFile)
	check("admin.tls.key_file", c.Admin.TLS.KeyFile)
	if c.Admin.OIDC != nil {
		check("admin.oidc.client_secret_file", c.Admin.OIDC.ClientSecretFile)
	}
	for i, r := range c.Regions {
		field := fmt.Sprintf("regions[%d]", i)
		check(field+".easit.api_key_file", r.Easit.APIKeyFile)
		check(field+".easit.export_secret_file", r.Easit.ExportSecretFile)
		check(field+".easit.tls.key_file", r.Easit.TLS.KeyFile)
		check(field+".forms.token_file", r.Forms.TokenFile)
		check(field+".forms.tls.key_file", r.Forms.TLS.KeyFile)
	}
	return warnings
}

// secrets are the configuration's secrets, a DSN only on PostgreSQL (an
// SQLite DSN is a file name).
func (c *Config) secrets() []Secret {
	out := []Secret{c.Admin.Token, c.Log.PseudonymKey}
	if c.LockStore.Driver == "postgres" {
		out = append(out, c.LockStore.DSN)
	}
	for _, r := range c.Regions {
		out = append(out, r.Easit.APIKey, r.Easit.ExportSecret, r.Forms.Token)
	}
	return out
}
