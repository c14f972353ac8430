package easit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ImportRequest runs an import handler configured in Easit over some items.
type ImportRequest struct {
	Handler string // the handler's identifier in Easit (importHandlerIdentifier)
	Items   []ImportItem
}

// ImportItem is one item to import. UID names the item in Easit's answer and
// must be unique within the request.
type ImportItem struct {
	UID        string
	Properties []ImportProperty
}

// ImportProperty is one value of an item to import.
type ImportProperty struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// ImportResponse is Easit's answer to an import: a result per item.
type ImportResponse struct {
	Results []ImportItemResult `json:"importItemResult"`
}

// ImportItemResult is Easit's result for one imported item.
type ImportItemResult struct {
	UID          string          `json:"uid"`
	Result       string          `json:"result"` // "OK", "Exception" or "Skipped"
	ReturnValues json.RawMessage `json:"returnValues"`
	Message      string          `json:"skippedOrExceptionMessage"`
}

// importRequestJSON is an ImportRequest on the wire.
type importRequestJSON struct {
	Handler string           `json:"importHandlerIdentifier"`
	Items   []importItemJSON `json:"itemToImport"`
}

type importItemJSON struct {
	ID         string           `json:"id"` // the item's position in the request
	UID        string           `json:"uid"`
	Properties []ImportProperty `json:"property"`
}

// Import calls POST /items, which runs an import handler over the request's
// items. It is never retried (see Error.Uncertain).
//
// Easit can answer 200 and still not carry out an item, so Import checks the
// result of every item sent: when one is not OK, or missing, it returns the
// answer together with an *ItemError for the first such item, in the order
// sent.
func (c *Client) Import(ctx context.Context, req ImportRequest) (*ImportResponse, error) {
	body := importRequestJSON{Handler: req.Handler, Items: []importItemJSON{}}
	uids := make(map[string]bool, len(req.Items))
	for i, it := range req.Items {
		if it.UID == "" || uids[it.UID] {
			return nil, fmt.Errorf("easit: import with handler %q: item %d has an empty or repeated uid", req.Handler, i+1)
		}
		uids[it.UID] = true
		body.Items = append(body.Items, importItemJSON{ID: strconv.Itoa(i + 1), UID: it.UID, Properties: it.Properties})
	}
	data, err := c.send(ctx, OpImport, http.MethodPost, "/items", body, true)
	if err != nil {
		return nil, fmt.Errorf("easit: import with handler %q: %w", req.Handler, err)
	}
	var resp ImportResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		// Easit answered 200, so it ran the import; only the answer is lost.
		e := &Error{Op: OpImport, StatusCode: http.StatusOK, Err: fmt.Errorf("decode answer: %w", err), Uncertain: true}
		return nil, fmt.Errorf("easit: import with handler %q: %w", req.Handler, e)
	}
	results := make(map[string]ImportItemResult, len(resp.Results))
	for _, r := range resp.Results {
		results[r.UID] = r
	}
	for _, it := range req.Items {
		r, ok := results[it.UID]
		switch {
		case !ok:
			return &resp, fmt.Errorf("easit: import with handler %q: %w", req.Handler, &ItemError{UID: it.UID})
		// Read leniently: to take an OK for a failure would have the caller
		// send the update, and its comment, again.
		case !strings.EqualFold(r.Result, "OK"):
			return &resp, fmt.Errorf("easit: import with handler %q: %w", req.Handler,
				&ItemError{UID: it.UID, Result: r.Result, Message: r.Message})
		}
	}
	return &resp, nil
}
