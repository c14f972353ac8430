package config

import (
	"os"
	"testing"
)

// FuzzParse feeds the configuration loader any text, with every ${VAR} set.
// It must never panic, and a configuration it accepts is valid and complete.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/two-regions.yaml", "../deploy/lockworker.example.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add(minimal)
	f.Add(minimal + "schedule: \"@every 1s\"\nlimits: {concurrent_orders: 64}\n")
	f.Add("regions: [{code: '07'}]\n")
	f.Add("regions: &a [*a]\n")
	f.Add("{")
	f.Add("")

	env := func(name string) (string, bool) { return "value-of-" + name, true }
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := Parse([]byte(text), env)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted a configuration that Validate refuses: %v", err)
		}
		if len(cfg.Regions) == 0 || cfg.LockStore.Driver == "" || cfg.Schedule == "" {
			t.Fatalf("Parse accepted an incomplete configuration: %+v", cfg)
		}
		for _, r := range cfg.Regions {
			if r.Easit.Fields.Ticket == "" || r.Easit.Statuses.Open == "" || r.Easit.Kinds.Lock == "" {
				t.Fatalf("region %s lacks a default: %+v", r.Code, r.Easit)
			}
		}
	})
}
