package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// StoreOnly is the part of the configuration that a command reading only the
// lock store needs: the lockstore and log sections, and each region's code
// and name to show. It holds no region secret.
type StoreOnly struct {
	LockStore LockStore
	Log       Log
	// Regions name the configured regions by code; a name that would come
	// from the environment is left out.
	Regions map[string]string
}

// LoadStoreOnly reads from the configuration file at path only the lockstore
// and log sections, expanding ${VAR} and reading secret files in those
// alone, and the regions' codes and names. The rest of the file is not
// validated, so that a host without the regions' secrets (say, when they are
// systemd credentials of the service) can still read the lock store.
func LoadStoreOnly(path string, getenv func(string) (string, bool)) (*StoreOnly, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	out, err := parseStoreOnly(data, getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration %s: %w", path, err)
	}
	return out, nil
}

func parseStoreOnly(data []byte, getenv func(string) (string, bool)) (*StoreOnly, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	cfg := Default()
	out := &StoreOnly{Regions: map[string]string{}}
	if len(doc.Content) > 0 {
		top := doc.Content[0]
		if top.Kind != yaml.MappingNode {
			return nil, errors.New("parse YAML: the file is not a mapping")
		}
		kept := &yaml.Node{Kind: yaml.MappingNode}
		for i := 0; i+1 < len(top.Content); i += 2 {
			key, value := top.Content[i], top.Content[i+1]
			switch key.Value {
			case "lockstore", "log":
				if err := expandEnv(value, getenv); err != nil {
					return nil, err
				}
				kept.Content = append(kept.Content, key, value)
			case "regions":
				var regions []struct {
					Code string `yaml:"code"`
					Name string `yaml:"name"`
				}
				if err := value.Decode(&regions); err != nil {
					return nil, fmt.Errorf("parse YAML: regions: %w", err)
				}
				for _, r := range regions {
					if !strings.Contains(r.Name, "${") {
						out.Regions[r.Code] = r.Name
					}
				}
			}
		}
		if err := decodeStrict(kept, &cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.readSecretFiles(); err != nil {
		return nil, err
	}
	var errs []error
	cfg.validateStoreAndLog(func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out.LockStore, out.Log = cfg.LockStore, cfg.Log
	return out, nil
}

// SQLitePathFrom returns an SQLite DSN whose relative file path is taken
// relative to dir, the configuration file's directory, rather than to the
// working directory; an absolute path, or a DSN of another driver, is
// returned as it is.
func (l LockStore) SQLitePathFrom(dir string) Secret {
	dsn := l.DSN.Reveal()
	if l.Driver != "sqlite" || dsn == "" {
		return l.DSN
	}
	path, query, hasQuery := strings.Cut(dsn, "?")
	scheme := ""
	if rest, ok := strings.CutPrefix(path, "file:"); ok {
		scheme, path = "file:", rest
	}
	if path == "" || path == ":memory:" || filepath.IsAbs(path) {
		return l.DSN
	}
	dsn = scheme + filepath.Join(dir, path)
	if hasQuery {
		dsn += "?" + query
	}
	return Secret(dsn)
}
