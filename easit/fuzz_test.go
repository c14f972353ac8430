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
