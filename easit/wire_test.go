package easit_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lockworker/lockworker/easit"
)

// Easit's own integration module sends its requests with every character
// beyond ASCII escaped; lockworker does the same, to the same meaning.
func TestRequestBodiesEscapeWhatIsNotASCII(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	comment := "Spärren är hävd: \"Åsa\" <ombud> \u2028 😀"
	mux.HandleFunc("/integration-api/items", func(w http.ResponseWriter, r *http.Request) {
		got := checkRequest(t, r, r.Method, true)
		for i, c := range got {
			if c >= 0x80 {
				t.Errorf("the %s body holds the byte %#x at %d, beyond ASCII: %s", r.Method, c, i, got)
				break
			}
		}
		if r.Method == http.MethodGet {
			assertJSON(t, got, `{"itemViewIdentifier":"VIS-1177-läs","page":1,"pageSize":100,"sortColumn":{"content":"Ärendenummer","order":"Ascending"}}`)
			if !strings.Contains(string(got), `"VIS-1177-l\u00e4s"`) || !strings.Contains(string(got), `"\u00c4rendenummer"`) {
				t.Errorf("the list body %s does not escape ä and Ä as \\u00e4 and \\u00c4", got)
			}
			body(testdata(t, "items_empty_list.json"))(w, r)
			return
		}
		var req struct {
			Items []struct {
				Properties []easit.ImportProperty `json:"property"`
			} `json:"itemToImport"`
		}
		if err := json.Unmarshal(got, &req); err != nil || len(req.Items) != 1 || len(req.Items[0].Properties) != 2 {
			t.Fatalf("import body %s: %v", got, err)
		}
		if p := req.Items[0].Properties; p[0].Content != "Löst" || p[1].Content != comment {
			t.Errorf("import properties read back as %+v, want Löst and the comment as sent", p)
		}
		if !strings.Contains(string(got), `L\u00f6st`) || !strings.Contains(string(got), `\ud83d\ude00`) {
			t.Errorf("the import body %s does not escape ö as \\u00f6 and the emoji as a surrogate pair", got)
		}
		body(testdata(t, "import_ok.json"))(w, r)
	})

	if _, err := client.ListItems(t.Context(), easit.ListOptions{View: "VIS-1177-läs", Page: 1, PageSize: 100, SortBy: "Ärendenummer"}); err != nil {
		t.Fatal(err)
	}
	_, err := client.Import(t.Context(), easit.ImportRequest{Handler: "VIS-1177-uppdatera", Items: []easit.ImportItem{{
		UID: "uid-1", Properties: []easit.ImportProperty{{Name: "Status", Content: "Löst"}, {Name: "Message", Content: comment}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAByteOrderMarkBeforeAnAnswerIsIgnored(t *testing.T) {
	t.Parallel()
	bom := func(name string) step { return body(append([]byte("\xef\xbb\xbf"), testdata(t, name)...)) }
	client, mux := setup(t)
	mux.HandleFunc("/integration-api/ping", bom("ping.json"))
	mux.HandleFunc("GET /integration-api/items", bom("items_page1.json"))
	mux.HandleFunc("POST /integration-api/items", bom("import_ok.json"))

	if err := client.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	page, err := client.ListItems(t.Context(), easit.ListOptions{View: "VIS-1177-las", Page: 1})
	if err != nil || len(page.Items) == 0 || len(page.Columns) == 0 {
		t.Errorf("ListItems = %+v, %v; want the page read whole", page, err)
	}
	resp, err := client.Import(t.Context(), update("uid-1"))
	if err != nil || len(resp.Results) != 1 || resp.Results[0].Result != "OK" {
		t.Errorf("Import = %+v, %v; want its result read, not an uncertain answer", resp, err)
	}
}
