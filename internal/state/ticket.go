package state

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/check"
)

// TicketIDPrefix starts every ticket id; the rest is a ULID. Ids are opaque:
// callers must not parse them.
const TicketIDPrefix = "T-"

// checkStatus validates a ticket status.
func checkStatus(s string) error {
	switch s {
	case lhk.TicketOpen, lhk.TicketInProgress, lhk.TicketResolved, lhk.TicketClosed:
		return nil
	}
	return lhk.Errorf(lhk.EINVALID, "unknown ticket status %q, use open, in_progress, resolved or closed", Short(s))
}

// checkSeverity validates a severity (tickets) or criticality (assets).
func checkSeverity(field, s string) error {
	switch s {
	case lhk.SeverityLow, lhk.SeverityMedium, lhk.SeverityHigh, lhk.SeverityCritical:
		return nil
	}
	return lhk.Errorf(lhk.EINVALID, "unknown %s %q, use low, medium, high or critical", field, Short(s))
}

// normalObservable checks an observable and returns it in canonical form: IPs
// as netip prints them (IPv4-mapped IPv6 unmapped), hashes and domains in
// lower case, every value trimmed of surrounding space.
func normalObservable(o lhk.Observable) (lhk.Observable, error) {
	v := strings.TrimSpace(o.Value)
	bad := func(format string, args ...any) error {
		return lhk.Errorf(lhk.EINVALID, "observable %s %q: "+format, append([]any{Short(o.Type), Short(o.Value)}, args...)...)
	}
	switch o.Type {
	case lhk.ObservableIP:
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return o, bad("not an IP address")
		}
		v = a.Unmap().String()
	case lhk.ObservableHash:
		v = strings.ToLower(v)
		if _, err := hex.DecodeString(v); err != nil || (len(v) != 32 && len(v) != 40 && len(v) != 64) {
			return o, bad("a hash is the hex of an MD5, SHA-1 or SHA-256 (32, 40 or 64 digits)")
		}
	case lhk.ObservableDomain:
		v = strings.ToLower(strings.TrimSuffix(v, "."))
		if strings.ContainsAny(v, " \t/") {
			return o, bad("a domain has no spaces or slashes")
		}
	case lhk.ObservableURL, lhk.ObservableUser, lhk.ObservableHost, lhk.ObservableEmail:
	default:
		return o, lhk.Errorf(lhk.EINVALID, "unknown observable type %q, use ip, hash, domain, url, user, host or email", Short(o.Type))
	}
	switch {
	case v == "":
		return o, bad("value is required")
	case len(v) > MaxObservable:
		return o, bad("value is %d bytes, at most %d allowed", len(v), MaxObservable)
	case !printable(v):
		return o, bad("value must be printable UTF-8 on one line")
	}
	return lhk.Observable{Type: o.Type, Value: v}, nil
}

// ObservableKey is the indexed, lower-cased form of an observable's value
// that SearchTickets' Observable is matched against (IPs in canonical form).
func ObservableKey(v string) string {
	v = strings.TrimSpace(v)
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Unmap().String()
	}
	return strings.ToLower(v)
}

// addObservables appends the valid, new observables of add to have.
func addObservables(have, add []lhk.Observable) ([]lhk.Observable, error) {
	seen := make(map[lhk.Observable]bool, len(have))
	for _, o := range have {
		seen[o] = true
	}
	for _, o := range add {
		n, err := normalObservable(o)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			have = append(have, n)
		}
	}
	if len(have) > MaxTicketObservables {
		return nil, lhk.Errorf(lhk.EINVALID, "a ticket holds at most %d observables", MaxTicketObservables)
	}
	return have, nil
}

// addEvents appends the valid, new event ids of add to have.
func addEvents(have, add []string) ([]string, error) {
	seen := make(map[string]bool, len(have))
	for _, e := range have {
		seen[e] = true
	}
	for _, e := range add {
		if e == "" || len(e) > MaxEventID || !printable(e) {
			return nil, lhk.Errorf(lhk.EINVALID, "event id %q must be 1 to %d printable bytes", Short(e), MaxEventID)
		}
		if !seen[e] {
			seen[e] = true
			have = append(have, e)
		}
	}
	if len(have) > MaxTicketEvents {
		return nil, lhk.Errorf(lhk.EINVALID, "a ticket links at most %d events", MaxTicketEvents)
	}
	return have, nil
}

// CheckTicket validates the fields a caller sets directly.
func CheckTicket(t *lhk.Ticket) error {
	if err := CheckTenant(t.Tenant); err != nil {
		return err
	}
	if err := CheckText("title", t.Title, MaxTitle, true); err != nil {
		return err
	}
	if err := CheckText("description", t.Description, MaxDescription, false); err != nil {
		return err
	}
	if err := checkStatus(t.Status); err != nil {
		return err
	}
	if err := checkSeverity("severity", t.Severity); err != nil {
		return err
	}
	if err := CheckLabel("assignee", t.Assignee, MaxName); err != nil {
		return err
	}
	return CheckLabel("reporter", t.Reporter, MaxName)
}

// SearchText is what SearchTickets' Text is matched against: title,
// description and comment bodies, lower-cased, one a line.
func SearchText(t *lhk.Ticket) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(t.Title))
	b.WriteByte('\n')
	b.WriteString(strings.ToLower(t.Description))
	for _, c := range t.Comments {
		b.WriteByte('\n')
		b.WriteString(strings.ToLower(c.Body))
	}
	return b.String()
}

// NewTicket checks a ticket given to CreateTicket and returns the ticket to
// store, with a new id (TicketIDPrefix and a ULID). Status defaults to open
// and severity to medium; Reporter to the context's actor. A zero CreatedAt
// is now; UpdatedAt is CreatedAt. Events and observables are checked and
// de-duplicated, comments take the time now.
func NewTicket(ctx context.Context, in *lhk.Ticket, now time.Time) (*lhk.Ticket, error) {
	if in == nil {
		return nil, lhk.Errorf(lhk.EINVALID, "ticket is required")
	}
	t := &lhk.Ticket{
		Tenant: in.Tenant, Title: in.Title, Description: in.Description, Status: in.Status, Severity: in.Severity,
		Assignee: in.Assignee, Reporter: in.Reporter, ExternalKey: in.ExternalKey, CreatedAt: now,
	}
	if t.Status == "" {
		t.Status = lhk.TicketOpen
	}
	if t.Severity == "" {
		t.Severity = lhk.SeverityMedium
	}
	if t.Reporter == "" {
		t.Reporter = lhk.ActorFromContext(ctx)
	}
	if err := CheckTicket(t); err != nil {
		return nil, err
	}
	if t.ExternalKey != "" {
		if err := CheckText("external_key", t.ExternalKey, MaxExternalKey, true); err != nil {
			return nil, err
		}
	}
	if !in.CreatedAt.IsZero() {
		if err := CheckTime("created_at", in.CreatedAt); err != nil {
			return nil, err
		}
		t.CreatedAt = UTC(in.CreatedAt)
	}
	t.UpdatedAt = t.CreatedAt
	var err error
	if t.Events, err = addEvents([]string{}, in.Events); err != nil {
		return nil, err
	}
	if t.Observables, err = addObservables([]lhk.Observable{}, in.Observables); err != nil {
		return nil, err
	}
	if len(in.Comments) > MaxTicketComments {
		return nil, lhk.Errorf(lhk.EINVALID, "a ticket holds at most %d comments", MaxTicketComments)
	}
	t.Comments = []lhk.Comment{}
	for _, c := range in.Comments {
		nc, err := newComment(ctx, c, now)
		if err != nil {
			return nil, err
		}
		t.Comments = append(t.Comments, nc)
	}
	t.ID = NewID(TicketIDPrefix, now)
	return t, nil
}

// ExternalKeyConflict is the error for a second ticket with the external key
// of ticket id.
func ExternalKeyConflict(id, key string) error {
	return lhk.Errorf(lhk.ECONFLICT, "ticket %s already has external key %q", id, Short(key))
}

// TicketNotFound is the error for a ticket a tenant does not have.
func TicketNotFound(tenant, id string) error {
	return lhk.Errorf(lhk.ENOTFOUND, "ticket %q not found in tenant %q", Short(id), Short(tenant))
}

// newComment checks c and stamps it with at; an empty author is the
// context's actor.
func newComment(ctx context.Context, c lhk.Comment, at time.Time) (lhk.Comment, error) {
	if c.Author == "" {
		c.Author = lhk.ActorFromContext(ctx)
	}
	if err := CheckText("comment body", c.Body, MaxDescription, true); err != nil {
		return c, err
	}
	if err := CheckLabel("comment author", c.Author, MaxName); err != nil {
		return c, err
	}
	return lhk.Comment{Author: c.Author, Body: c.Body, At: at}, nil
}

// TicketEdit is a change to a stored ticket, UpdateTicket's or
// CommentTicket's. A store reads the ticket under its write lock, applies
// the edit to it (Apply) and writes it back.
type TicketEdit struct {
	what  string // what the edit does, for its errors
	apply func(t *lhk.Ticket, now time.Time) error
}

// UpdateTicket is the edit applying upd: nil fields stay, AddEvents and
// AddObservables are appended without duplicates.
func UpdateTicket(upd lhk.TicketUpdate) TicketEdit {
	return TicketEdit{what: "update ticket", apply: func(t *lhk.Ticket, _ time.Time) error {
		for _, f := range []struct {
			dst *string
			src *string
		}{{&t.Title, upd.Title}, {&t.Description, upd.Description}, {&t.Status, upd.Status},
			{&t.Severity, upd.Severity}, {&t.Assignee, upd.Assignee}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		var err error
		if t.Events, err = addEvents(t.Events, upd.AddEvents); err != nil {
			return err
		}
		t.Observables, err = addObservables(t.Observables, upd.AddObservables)
		return err
	}}
}

// CommentTicket is the edit appending c, stamped with the time of the edit
// (c.At is ignored); an empty author is the context's actor.
func CommentTicket(ctx context.Context, c lhk.Comment) TicketEdit {
	return TicketEdit{what: "comment ticket", apply: func(t *lhk.Ticket, now time.Time) error {
		if len(t.Comments) >= MaxTicketComments {
			return lhk.Errorf(lhk.EINVALID, "ticket %s has %d comments, the most it holds", t.ID, MaxTicketComments)
		}
		nc, err := newComment(ctx, c, now)
		if err != nil {
			return err
		}
		t.Comments = append(t.Comments, nc)
		return nil
	}}
}

// Apply applies e at now to t, a ticket as read from its store, checks the
// result (CheckTicket) and sets its UpdatedAt to now. On an error t must
// not be written.
func (e TicketEdit) Apply(t *lhk.Ticket, now time.Time) error {
	if err := e.apply(t, now); err != nil {
		return err
	}
	if err := CheckTicket(t); err != nil {
		return err
	}
	t.UpdatedAt = now
	return nil
}

// Wrap returns err, the failure of e on the ticket id, saying what e did.
func (e TicketEdit) Wrap(id string, err error) error {
	return fmt.Errorf("%s %q: %w", e.what, Short(id), err)
}

// TicketRow is what a store writes of a ticket besides its plain fields.
type TicketRow struct {
	Events, Observables, Comments string // the lists, as JSON
	// Search is the text SearchTickets' Text is matched in (SearchText).
	Search string
	// ObservableKeys are the values SearchTickets' Observable is matched
	// against (ObservableKey), one an observable; a store indexes them.
	ObservableKeys []string
}

// NewTicketRow returns what a store writes of t besides its plain fields.
func NewTicketRow(t *lhk.Ticket) (*TicketRow, error) {
	r := &TicketRow{Search: SearchText(t), ObservableKeys: make([]string, len(t.Observables))}
	for i, o := range t.Observables {
		r.ObservableKeys[i] = ObservableKey(o.Value)
	}
	for _, c := range []struct {
		dst *string
		v   any
	}{{&r.Events, t.Events}, {&r.Observables, t.Observables}, {&r.Comments, t.Comments}} {
		b, err := json.Marshal(c.v)
		if err != nil {
			return nil, err
		}
		*c.dst = string(b)
	}
	return r, nil
}

// ReadTicketLists sets the lists of t, read from its store, from their
// JSON: never nil, comment times in UTC.
func ReadTicketLists(t *lhk.Ticket, events, observables, comments []byte) error {
	for _, c := range []struct {
		b []byte
		v any
	}{{events, &t.Events}, {observables, &t.Observables}, {comments, &t.Comments}} {
		if err := json.Unmarshal(c.b, c.v); err != nil {
			return fmt.Errorf("decode ticket %q: %w", t.ID, err)
		}
	}
	t.Events, t.Observables, t.Comments = NonNil(t.Events), NonNil(t.Observables), NonNil(t.Comments)
	for i := range t.Comments {
		t.Comments[i].At = t.Comments[i].At.UTC()
	}
	return nil
}

// TicketQuery is a checked lhk.TicketQuery: what a store matches, in the
// forms its indexes hold.
type TicketQuery struct {
	lhk.TicketQuery
	Limit      int     // after the default and the cap
	Cursor     *Cursor // nil for the first page
	Text       string  // lower-cased, matched as a substring of SearchText
	Observable string  // ObservableKey of the query's observable
}

// CheckTicketQuery checks a SearchTickets query.
func CheckTicketQuery(q lhk.TicketQuery) (*TicketQuery, error) {
	if err := CheckTenant(q.Tenant); err != nil {
		return nil, err
	}
	limit, err := check.Limit(q.Limit, DefaultTicketLimit, MaxTicketLimit)
	if err != nil {
		return nil, err
	}
	cur, err := DecodeCursor("tickets", q.Tenant, q.Cursor)
	if err != nil {
		return nil, err
	}
	if q.Status != "" {
		if err := checkStatus(q.Status); err != nil {
			return nil, err
		}
	}
	if q.Severity != "" {
		if err := checkSeverity("severity", q.Severity); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct{ name, v string }{
		{"text", q.Text}, {"observable", q.Observable}, {"external_key", q.ExternalKey}, {"assignee", q.Assignee},
	} {
		if err := CheckText(f.name, f.v, lhk.MaxQueryBytes, false); err != nil {
			return nil, err
		}
	}
	if q.From != nil {
		if err := CheckTime("from", *q.From); err != nil {
			return nil, err
		}
	}
	if q.To != nil {
		if err := CheckTime("to", *q.To); err != nil {
			return nil, err
		}
		if q.From != nil && q.To.Before(*q.From) {
			return nil, lhk.Errorf(lhk.EINVALID, "to (%s) is before from (%s)", q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
		}
	}
	out := &TicketQuery{TicketQuery: q, Limit: limit, Cursor: cur, Text: strings.ToLower(q.Text)}
	if q.Observable != "" {
		out.Observable = ObservableKey(q.Observable)
	}
	return out, nil
}

// TicketPage cuts a listing read with limit+1 rows to limit and returns the
// cursor of the next page when there is one.
func TicketPage(tenant string, ts []*lhk.Ticket, limit int) *lhk.TicketList {
	list := &lhk.TicketList{Tickets: NonNil(ts)}
	if len(ts) > limit {
		list.Tickets = ts[:limit]
		last := ts[limit-1]
		list.Truncated = true
		list.NextCursor = EncodeCursor("tickets", tenant, last.CreatedAt.UnixNano(), last.ID)
	}
	return list
}
