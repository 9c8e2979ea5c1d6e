package logquery

import (
	"fmt"
	"time"

	"github.com/lhk-soc/lhk"
)

// Page assembles a search's result from the rows a store reads for a
// Request: its events newest first, LIMIT Limit+1, so that the row past the
// limit says more events match without being returned.
type Page struct {
	keys *Keys
	req  *Request
	res  *lhk.SearchResult
	last Position
}

// NewPage starts the result of the search r.
func (k *Keys) NewPage(r *Request) *Page {
	return &Page{keys: k, req: r, res: &lhk.SearchResult{Events: []lhk.Event{}}}
}

// Full reports whether the page holds its Limit events. A row read once it
// does is not returned: Full marks the result truncated, and the store stops
// reading.
func (p *Page) Full() bool {
	if len(p.res.Events) < p.req.Limit {
		return false
	}
	p.res.Truncated = true
	return true
}

// Add adds the event of one row: its row number, time (Unix nanoseconds)
// and stored JSON, which comes back with the request's "tenant" and the
// event's "_id".
func (p *Page) Add(seq, ts int64, raw []byte) error {
	e, err := Decode(raw)
	if err != nil {
		return fmt.Errorf("decode stored event %d: %w", seq, err)
	}
	e["tenant"] = p.req.Tenant
	e["_id"] = p.keys.EventID(seq)
	p.res.Events = append(p.res.Events, e)
	p.last = Position{TS: ts, Seq: seq}
	return nil
}

// Result returns the search's result, with the cursor of the next page when
// it is truncated.
func (p *Page) Result() *lhk.SearchResult {
	if p.res.Truncated {
		p.res.NextCursor = p.keys.SealCursor(p.last, p.req.fp)
	}
	return p.res
}

// TopResult returns the result of the top request r from its buckets, most
// frequent first, and total, the count of matching events that have the
// field: Other counts those outside the buckets.
func TopResult(r *Request, buckets []lhk.Bucket, total int64) *lhk.TopResult {
	res := &lhk.TopResult{Field: r.Field, Buckets: buckets, Total: total, Other: total}
	if res.Buckets == nil {
		res.Buckets = []lhk.Bucket{}
	}
	for _, b := range buckets {
		res.Other -= b.Count
	}
	return res
}

// CountResult returns the result of a count: n events, the newest at last
// (nil when none matched), in UTC.
func CountResult(n int64, last *time.Time) *lhk.CountResult {
	res := &lhk.CountResult{Count: n}
	if last != nil {
		t := last.UTC()
		res.Last = &t
	}
	return res
}
