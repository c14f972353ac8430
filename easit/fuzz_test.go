package easit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeItemPage feeds decodeItemPage arbitrary answers. Beyond not
// panicking, a page it accepts holds no negative number, and encoding it back
// to Easit's form and decoding that gives the same page: nothing read is lost
// or changed, a null stays null and an empty string stays empty.
func FuzzDecodeItemPage(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "items_*.json"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed pages in testdata: %v", err)
	}
	for _, name := range seeds {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		page, err := decodeItemPage(data)
		if err != nil {
			return
		}
		if page.RequestedPage < 0 || page.Page < 0 || page.PageSize < 0 || page.TotalNumberOfPages < 0 || page.TotalNumberOfItems < 0 {
			t.Fatalf("accepted a negative number: %+v", page)
		}
		again, err := decodeItemPage(encodeItemPage(t, page))
		if err != nil {
			t.Fatalf("the page encoded back does not decode: %v", err)
		}
		if a, b := marshal(t, page), marshal(t, again); !bytes.Equal(a, b) {
			t.Fatalf("round trip changed the page:\n%s\n%s", a, b)
		}
	})
}

// encodeItemPage writes a page in Easit's form.
func encodeItemPage(t *testing.T, p *ItemPage) []byte {
	w := itemPageJSON{
		RequestedPage:      p.RequestedPage,
		Page:               p.Page,
		PageSize:           p.PageSize,
		TotalNumberOfPages: p.TotalNumberOfPages,
		TotalNumberOfItems: p.TotalNumberOfItems,
	}
	if p.Columns != nil {
		w.Columns = &struct {
			Column []Column `json:"column"`
		}{p.Columns}
	}
	if p.Items != nil {
		w.Items = &struct {
			Item []Item `json:"item"`
		}{p.Items}
	}
	return marshal(t, w)
}

func marshal(t *testing.T, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return data
}

// FuzzMarshalASCII checks that marshalASCII writes only ASCII, and the same
// JSON value as json.Marshal, for any text an import may carry.
func FuzzMarshalASCII(f *testing.F) {
	for _, s := range []string{"Löst", "Inloggningen till 1177 är låst.", "\u2028<&>\"\\", "😀 Ä\u0308", "\xff invalid", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := ImportProperty{Name: s, Content: s}
		got, err := marshalASCII(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got {
			if c >= 0x80 {
				t.Fatalf("marshalASCII(%q) = %s, beyond ASCII", s, got)
			}
		}
		want, _ := json.Marshal(v)
		var a, b ImportProperty
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("marshalASCII(%q) = %s, not JSON: %v", s, got, err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Errorf("marshalASCII(%q) reads back as %+v, json.Marshal as %+v", s, a, b)
		}
	})
}
