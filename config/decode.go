package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The configuration is decoded from the YAML node tree of the file as written,
// not from a re-encoding of it, so that every error gives the line and column
// where the operator wrote the value.

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} in every scalar value of the tree (not in the
// keys), and records in written the text as written of each value it
// changed. A value
// that was written plain (not quoted, not tagged) is then typed as if its
// expansion had been written there: `concurrent_orders: ${N}` is a number
// when N is one. A variable that is not set is an error that names it, never
// an empty secret.
func expandEnv(n *yaml.Node, getenv func(string) (string, bool), written map[*yaml.Node]string) error {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		var missing []string
		value := envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			v, ok := getenv(name)
			if !ok {
				missing = append(missing, name)
			}
			return v
		})
		if len(missing) > 0 {
			return fmt.Errorf("%s: environment variable %s is not set", position(n), strings.Join(missing, ", "))
		}
		written[n] = n.Value
		n.Value = value
		if n.Style&yaml.TaggedStyle == 0 && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			n.Tag = "" // resolved afresh from the value, as yaml.v3 does when it reads a plain scalar
		}
	}
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			continue // a key
		}
		if err := expandEnv(c, getenv, written); err != nil {
			return err
		}
	}
	return nil
}

// decoder sets a Go value from a node tree as yaml.v3 does, and more strictly:
// a key that names no field, or a key given twice, is an error, and every
// error names the field and the line and column of the file as written.
type decoder struct {
	// written holds the text as written of each value that a ${VAR} was
	// expanded in: an error shows it rather than what the environment gave,
	// which may be a secret.
	written map[*yaml.Node]string
	// fields holds the node of each field the file gives, by its name
	// ("regions[0].org_number"), so that a problem found later can say
	// where the field was written.
	fields map[string]*yaml.Node
	// aliases counts the aliases followed, so that aliases that stand for
	// one another without end, or multiply, cannot hold the decoder.
	aliases int
	errs    []error
}

func newDecoder() *decoder {
	return &decoder{written: map[*yaml.Node]string{}, fields: map[string]*yaml.Node{}}
}

// maxAliases is more aliases than a configuration file needs.
const maxAliases = 1000

// follow returns the node that n stands for if it is an alias, else n; it
// returns nil, having recorded the error, when the aliases are too many.
func (d *decoder) follow(n *yaml.Node, field string) *yaml.Node {
	if n.Kind != yaml.AliasNode {
		return n
	}
	if d.aliases++; d.aliases > maxAliases {
		d.fail(n, field, fmt.Sprintf("more than %d aliases followed, or an alias within its own anchor", maxAliases))
		return nil
	}
	return n.Alias
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// decode sets out, addressable, from n; field is out's name in the
// configuration ("regions[0].easit"), "" for the whole file.
func (d *decoder) decode(n *yaml.Node, field string, out reflect.Value) {
	if n = d.follow(n, field); n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value leaves the default
	}
	d.fields[field] = n
	switch {
	case reflect.PointerTo(out.Type()).Implements(unmarshalerType):
		d.leaf(n, field, out)
	case out.Kind() == reflect.Pointer:
		if out.IsNil() {
			out.Set(reflect.New(out.Type().Elem()))
		}
		d.decode(n, field, out.Elem())
	case out.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		d.mapping(n, field, out)
	case out.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		out.Set(reflect.MakeSlice(out.Type(), len(n.Content), len(n.Content)))
		for i, item := range n.Content {
			d.decode(item, fmt.Sprintf("%s[%d]", field, i), out.Index(i))
		}
	default:
		d.leaf(n, field, out)
	}
}

// mapping sets the struct out from the mapping n: merged mappings (<<) first,
// then the keys written in n itself, which take precedence.
func (d *decoder) mapping(n *yaml.Node, field string, out reflect.Value) {
	fields := yamlFields(out.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if key.Kind == yaml.ScalarNode && key.ShortTag() == "!!merge" {
			d.merge(value, field, out)
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		switch {
		case key.Kind == yaml.ScalarNode && key.ShortTag() == "!!merge":
			continue
		case key.Kind != yaml.ScalarNode:
			d.fail(key, field, "a key must be a plain name")
			continue
		}
		if first, ok := seen[key.Value]; ok {
			d.fail(key, field, fmt.Sprintf("key %q is given twice (first at line %d)", key.Value, first.Line))
			continue
		}
		seen[key.Value] = key
		index, ok := fields[key.Value]
		if !ok {
			d.fail(key, field, fmt.Sprintf("unknown key %q", key.Value))
			continue
		}
		d.decode(value, join(field, key.Value), out.Field(index))
	}
}

// merge sets out from the mappings that a merge key (<<) names: one, or a
// list of them, the first taking precedence.
func (d *decoder) merge(n *yaml.Node, field string, out reflect.Value) {
	if n = d.follow(n, field); n == nil {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		d.mapping(n, field, out)
	case yaml.SequenceNode:
		for i := len(n.Content) - 1; i >= 0; i-- {
			d.merge(n.Content[i], field, out)
		}
	default:
		d.fail(n, field, "a merge (<<) takes a mapping or a list of mappings")
	}
}

// leaf sets out from n with yaml.v3, and says what was wanted if n does not
// fit.
func (d *decoder) leaf(n *yaml.Node, field string, out reflect.Value) {
	if err := n.Decode(out.Addr().Interface()); err != nil {
		d.fail(n, field, fmt.Sprintf("want %s, not %s", wanted(out.Type()), d.found(n)))
	}
}

func (d *decoder) fail(n *yaml.Node, field, problem string) {
	if field != "" {
		problem = field + ": " + problem
	}
	d.errs = append(d.errs, fmt.Errorf("%s: %s", position(n), problem))
}

func (d *decoder) err() error { return errors.Join(d.errs...) }

// locate gives each problem of a field in err (one error, or several joined)
// the line and column where the file gives the field, or else the nearest
// part of the configuration that holds it: a field that is missing is missing
// from there.
func (d *decoder) locate(err error) error {
	var errs []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	} else {
		errs = []error{err}
	}
	located := make([]error, len(errs))
	for i, e := range errs {
		located[i] = e
		var fe *FieldError
		if !errors.As(e, &fe) {
			continue
		}
		for field := fe.Field; field != ""; field = parent(field) {
			if n, ok := d.fields[field]; ok {
				located[i] = fmt.Errorf("%s: %w", position(n), e)
				break
			}
		}
	}
	return errors.Join(located...)
}

// parent returns the name of the part of the configuration that holds field:
// "regions[0]" for "regions[0].name", "regions" for "regions[0]".
func parent(field string) string {
	if i := strings.LastIndexAny(field, ".["); i >= 0 {
		return field[:i]
	}
	return ""
}

// found describes a value as written.
func (d *decoder) found(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if text, ok := d.written[n]; ok {
		return fmt.Sprintf("%q (from the environment)", clip(text))
	}
	return fmt.Sprintf("%q", clip(n.Value))
}

// wanted describes what a value of type t is written as.
func wanted(t reflect.Type) string {
	if t == reflect.TypeFor[time.Duration]() {
		return "a duration such as 90s, 5m or 72h"
	}
	if t == reflect.TypeFor[Age]() {
		return "an age such as 5y, 90d or 72h"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a single value"
	case reflect.Slice:
		return "a list"
	default:
		return "a mapping"
	}
}

// yamlFields maps the keys of a struct to its fields' indexes, by the names
// yaml.v3 gives them: the yaml tag's name, or the field's name in lower case.
// The configuration's structs have no inline fields.
func yamlFields(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = i
	}
	return fields
}

func position(n *yaml.Node) string { return fmt.Sprintf("line %d, column %d", n.Line, n.Column) }

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// clip shortens a value for an error message.
func clip(s string) string {
	const maxLen = 40
	if r := []rune(s); len(r) > maxLen {
		return string(r[:maxLen]) + "…"
	}
	return s
}
