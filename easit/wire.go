package easit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// utf8BOM is the byte-order mark that an Easit, or a proxy before it, may put
// before a JSON answer. JSON does not allow it, so it is dropped.
var utf8BOM = []byte("\xef\xbb\xbf")

// withoutBOM returns an answer's body without a leading byte-order mark.
func withoutBOM(body []byte) []byte { return bytes.TrimPrefix(body, utf8BOM) }

// marshalASCII encodes v as JSON with every character beyond ASCII escaped
// ("Löst" as "L\u00f6st"), as Easit's own integration module sends its
// requests: an Easit, or a proxy before it, that reads the body in another
// encoding than UTF-8 still reads the labels and the comment right.
func marshalASCII(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	// Outside strings, JSON is ASCII: every byte beyond it belongs to a
	// string, where an escape means the same character. json.Marshal has
	// made the text valid UTF-8.
	out := make([]byte, 0, len(data))
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		switch {
		case r < utf8.RuneSelf:
			out = append(out, data[0])
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		data = data[size:]
	}
	return out, nil
}
