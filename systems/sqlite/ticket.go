package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/lhk-soc/lhk"
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
	return lhk.Errorf(lhk.EINVALID, "unknown ticket status %q, use open, in_progress, resolved or closed", short(s))
}

// checkSeverity validates a severity (tickets) or criticality (assets).
func checkSeverity(field, s string) error {
	switch s {
	case lhk.SeverityLow, lhk.SeverityMedium, lhk.SeverityHigh, lhk.SeverityCritical:
		return nil
	}
	return lhk.Errorf(lhk.EINVALID, "unknown %s %q, use low, medium, high or critical", field, short(s))
}

// normalObservable checks an observable and returns it in canonical form: IPs
// as netip prints them (IPv4-mapped IPv6 unmapped), hashes and domains in
// lower case, every value trimmed of surrounding space.
func normalObservable(o lhk.Observable) (lhk.Observable, error) {
	v := strings.TrimSpace(o.Value)
	bad := func(format string, args ...any) error {
		return lhk.Errorf(lhk.EINVALID, "observable %s %q: "+format, append([]any{short(o.Type), short(o.Value)}, args...)...)
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
		return o, lhk.Errorf(lhk.EINVALID, "unknown observable type %q, use ip, hash, domain, url, user, host or email", short(o.Type))
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

// observableKey is the indexed, lower-cased form of a value for searches.
func observableKey(v string) string {
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
			return nil, lhk.Errorf(lhk.EINVALID, "event id %q must be 1 to %d printable bytes", short(e), MaxEventID)
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

// checkTicket validates the fields a caller sets directly.
func checkTicket(t *lhk.Ticket) error {
	if err := checkTenant(t.Tenant); err != nil {
		return err
	}
	if err := checkText("title", t.Title, MaxTitle, true); err != nil {
		return err
	}
	if err := checkText("description", t.Description, MaxDescription, false); err != nil {
		return err
	}
	if err := checkStatus(t.Status); err != nil {
		return err
	}
	if err := checkSeverity("severity", t.Severity); err != nil {
		return err
	}
	if err := checkLabel("assignee", t.Assignee, MaxName); err != nil {
		return err
	}
	return checkLabel("reporter", t.Reporter, MaxName)
}

// searchText is what SearchTickets' Text is matched against.
func searchText(t *lhk.Ticket) string {
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

const ticketColumns = `id, tenant, title, description, status, severity, assignee, reporter, external_key,
	events, observables, comments, created_at, updated_at`

// scanTicket reads one row of ticketColumns.
func scanTicket(row interface{ Scan(...any) error }) (*lhk.Ticket, error) {
	var (
		t                lhk.Ticket
		extKey           sql.NullString
		evs, obs, cmts   string
		created, updated int64
	)
	if err := row.Scan(&t.ID, &t.Tenant, &t.Title, &t.Description, &t.Status, &t.Severity, &t.Assignee, &t.Reporter,
		&extKey, &evs, &obs, &cmts, &created, &updated); err != nil {
		return nil, err
	}
	t.ExternalKey = extKey.String
	for _, c := range []struct {
		s string
		v any
	}{{evs, &t.Events}, {obs, &t.Observables}, {cmts, &t.Comments}} {
		if err := json.Unmarshal([]byte(c.s), c.v); err != nil {
			return nil, fmt.Errorf("decode ticket %q: %w", t.ID, err)
		}
	}
	t.Events, t.Observables, t.Comments = nonNil(t.Events), nonNil(t.Observables), nonNil(t.Comments)
	t.CreatedAt, t.UpdatedAt = fromNano(created), fromNano(updated)
	return &t, nil
}

// getTicket reads one ticket of a tenant in tx; ENOTFOUND when the tenant has
// no ticket with that id.
func getTicket(ctx context.Context, tx *sql.Tx, tenant, id string) (*lhk.Ticket, error) {
	t, err := scanTicket(tx.QueryRowContext(ctx, "SELECT "+ticketColumns+" FROM tickets WHERE tenant = ? AND id = ?", tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, lhk.Errorf(lhk.ENOTFOUND, "ticket %q not found in tenant %q", short(id), short(tenant))
	}
	return t, err
}

// saveTicket writes t (inserting when insert) and its observable index.
func saveTicket(ctx context.Context, tx *sql.Tx, t *lhk.Ticket, insert bool) error {
	evs, err := json.Marshal(t.Events)
	if err != nil {
		return err
	}
	obs, err := json.Marshal(t.Observables)
	if err != nil {
		return err
	}
	cmts, err := json.Marshal(t.Comments)
	if err != nil {
		return err
	}
	var extKey any
	if t.ExternalKey != "" {
		extKey = t.ExternalKey
	}
	if insert {
		_, err = tx.ExecContext(ctx, `INSERT INTO tickets (`+ticketColumns+`, search)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Tenant, t.Title, t.Description, t.Status, t.Severity, t.Assignee, t.Reporter, extKey,
			string(evs), string(obs), string(cmts), t.CreatedAt.UnixNano(), t.UpdatedAt.UnixNano(), searchText(t))
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE tickets SET title = ?, description = ?, status = ?, severity = ?,
			assignee = ?, events = ?, observables = ?, comments = ?, updated_at = ?, search = ?
			WHERE tenant = ? AND id = ?`,
			t.Title, t.Description, t.Status, t.Severity, t.Assignee, string(evs), string(obs), string(cmts),
			t.UpdatedAt.UnixNano(), searchText(t), t.Tenant, t.ID)
	}
	if err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, "INSERT OR IGNORE INTO ticket_observables (ticket, tenant, value) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	defer st.Close()
	for _, o := range t.Observables {
		if _, err := st.ExecContext(ctx, t.ID, t.Tenant, observableKey(o.Value)); err != nil {
			return err
		}
	}
	return nil
}

// CreateTicket stores a new ticket with a new id (TicketIDPrefix and a ULID)
// and returns it. Status defaults to open and severity to medium; Reporter to
// the context's actor. A zero CreatedAt is now; UpdatedAt is CreatedAt.
// Events and observables are checked and de-duplicated, comments take the
// current time. ECONFLICT when the tenant already has a ticket with the same
// non-empty ExternalKey (the message names that ticket).
func (db *DB) CreateTicket(ctx context.Context, in *lhk.Ticket) (*lhk.Ticket, error) {
	if in == nil {
		return nil, lhk.Errorf(lhk.EINVALID, "ticket is required")
	}
	now := fromNano(db.now().UnixNano())
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
	if err := checkTicket(t); err != nil {
		return nil, err
	}
	if t.ExternalKey != "" {
		if err := checkText("external_key", t.ExternalKey, MaxExternalKey, true); err != nil {
			return nil, err
		}
	}
	if !in.CreatedAt.IsZero() {
		if err := checkTime("created_at", in.CreatedAt); err != nil {
			return nil, err
		}
		t.CreatedAt = fromNano(in.CreatedAt.UnixNano())
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
	t.ID = newID(TicketIDPrefix, now)
	err = db.write(ctx, func(tx *sql.Tx) error {
		if t.ExternalKey != "" {
			var id string
			err := tx.QueryRowContext(ctx, "SELECT id FROM tickets WHERE tenant = ? AND external_key = ?", t.Tenant, t.ExternalKey).Scan(&id)
			if err == nil {
				return lhk.Errorf(lhk.ECONFLICT, "ticket %s already has external key %q", id, short(t.ExternalKey))
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		return saveTicket(ctx, tx, t, true)
	})
	if err != nil {
		return nil, fmt.Errorf("create ticket: %w", err)
	}
	return t, nil
}

// newComment checks c and stamps it with at; an empty author is the
// context's actor.
func newComment(ctx context.Context, c lhk.Comment, at time.Time) (lhk.Comment, error) {
	if c.Author == "" {
		c.Author = lhk.ActorFromContext(ctx)
	}
	if err := checkText("comment body", c.Body, MaxDescription, true); err != nil {
		return c, err
	}
	if err := checkLabel("comment author", c.Author, MaxName); err != nil {
		return c, err
	}
	return lhk.Comment{Author: c.Author, Body: c.Body, At: at}, nil
}

// Ticket returns one ticket of a tenant; ENOTFOUND for an unknown id or one
// of another tenant.
func (db *DB) Ticket(ctx context.Context, tenant, id string) (*lhk.Ticket, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	var t *lhk.Ticket
	err := db.read(ctx, func(tx *sql.Tx) (err error) {
		t, err = getTicket(ctx, tx, tenant, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get ticket %q: %w", short(id), err)
	}
	return t, nil
}

// update runs fn on a tenant's ticket in a write transaction and saves it with
// UpdatedAt set to now.
func (db *DB) updateTicket(ctx context.Context, tenant, id string, fn func(t *lhk.Ticket, now time.Time) error) (*lhk.Ticket, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	var out *lhk.Ticket
	err := db.write(ctx, func(tx *sql.Tx) error {
		t, err := getTicket(ctx, tx, tenant, id)
		if err != nil {
			return err
		}
		now := fromNano(db.now().UnixNano())
		if err := fn(t, now); err != nil {
			return err
		}
		if err := checkTicket(t); err != nil {
			return err
		}
		t.UpdatedAt = now
		if err := saveTicket(ctx, tx, t, false); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}

// UpdateTicket applies upd to a tenant's ticket: nil fields stay, AddEvents
// and AddObservables are appended without duplicates. ENOTFOUND for an
// unknown id or one of another tenant; EINVALID for a bad value.
func (db *DB) UpdateTicket(ctx context.Context, tenant, id string, upd lhk.TicketUpdate) (*lhk.Ticket, error) {
	t, err := db.updateTicket(ctx, tenant, id, func(t *lhk.Ticket, _ time.Time) error {
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
	})
	if err != nil {
		return nil, fmt.Errorf("update ticket %q: %w", short(id), err)
	}
	return t, nil
}

// CommentTicket appends a comment stamped with the current time (c.At is
// ignored); an empty author is the context's actor. ENOTFOUND for an unknown
// id or one of another tenant.
func (db *DB) CommentTicket(ctx context.Context, tenant, id string, c lhk.Comment) (*lhk.Ticket, error) {
	t, err := db.updateTicket(ctx, tenant, id, func(t *lhk.Ticket, now time.Time) error {
		if len(t.Comments) >= MaxTicketComments {
			return lhk.Errorf(lhk.EINVALID, "ticket %s has %d comments, the most it holds", t.ID, MaxTicketComments)
		}
		nc, err := newComment(ctx, c, now)
		if err != nil {
			return err
		}
		t.Comments = append(t.Comments, nc)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("comment ticket %q: %w", short(id), err)
	}
	return t, nil
}

// SearchTickets lists a tenant's tickets matching every set field of q,
// newest first (by CreatedAt, then id). Text matches title, description and
// comment bodies as a case-insensitive substring; Observable matches any
// observable's value (IPs in any notation, other values case-insensitively);
// ExternalKey matches exactly. Limit defaults to DefaultTicketLimit and is
// capped at MaxTicketLimit; Truncated and NextCursor say when more match.
func (db *DB) SearchTickets(ctx context.Context, q lhk.TicketQuery) (*lhk.TicketList, error) {
	if err := checkTenant(q.Tenant); err != nil {
		return nil, err
	}
	limit, err := clampLimit(q.Limit, DefaultTicketLimit, MaxTicketLimit)
	if err != nil {
		return nil, err
	}
	cur, err := decodeCursor("tickets", q.Tenant, q.Cursor)
	if err != nil {
		return nil, err
	}
	where := []string{"t.tenant = ?"}
	args := []any{q.Tenant}
	if q.Status != "" {
		if err := checkStatus(q.Status); err != nil {
			return nil, err
		}
		where, args = append(where, "t.status = ?"), append(args, q.Status)
	}
	if q.Severity != "" {
		if err := checkSeverity("severity", q.Severity); err != nil {
			return nil, err
		}
		where, args = append(where, "t.severity = ?"), append(args, q.Severity)
	}
	if q.Assignee != "" {
		where, args = append(where, "t.assignee = ?"), append(args, q.Assignee)
	}
	for _, f := range []struct{ name, v string }{
		{"text", q.Text}, {"observable", q.Observable}, {"external_key", q.ExternalKey}, {"assignee", q.Assignee},
	} {
		if err := checkText(f.name, f.v, lhk.MaxQueryBytes, false); err != nil {
			return nil, err
		}
	}
	if q.Text != "" {
		where, args = append(where, "instr(t.search, ?) > 0"), append(args, strings.ToLower(q.Text))
	}
	if q.Observable != "" {
		where = append(where, "EXISTS (SELECT 1 FROM ticket_observables o WHERE o.tenant = t.tenant AND o.value = ? AND o.ticket = t.id)")
		args = append(args, observableKey(q.Observable))
	}
	if q.ExternalKey != "" {
		where, args = append(where, "t.external_key = ?"), append(args, q.ExternalKey)
	}
	if q.From != nil {
		if err := checkTime("from", *q.From); err != nil {
			return nil, err
		}
		where, args = append(where, "t.created_at >= ?"), append(args, q.From.UnixNano())
	}
	if q.To != nil {
		if err := checkTime("to", *q.To); err != nil {
			return nil, err
		}
		if q.From != nil && q.To.Before(*q.From) {
			return nil, lhk.Errorf(lhk.EINVALID, "to (%s) is before from (%s)", q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
		}
		where, args = append(where, "t.created_at < ?"), append(args, q.To.UnixNano())
	}
	if cur != nil {
		where, args = append(where, "(t.created_at, t.id) < (?, ?)"), append(args, cur.At, cur.ID)
	}
	query := "SELECT " + prefixed("t.", ticketColumns) + " FROM tickets t WHERE " + strings.Join(where, " AND ") +
		" ORDER BY t.created_at DESC, t.id DESC LIMIT ?"
	list := &lhk.TicketList{Tickets: []*lhk.Ticket{}}
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, append(args, limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTicket(rows)
			if err != nil {
				return err
			}
			list.Tickets = append(list.Tickets, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("search tickets: %w", err)
	}
	if len(list.Tickets) > limit {
		list.Tickets = list.Tickets[:limit]
		last := list.Tickets[limit-1]
		list.Truncated = true
		list.NextCursor = encodeCursor("tickets", q.Tenant, last.CreatedAt.UnixNano(), last.ID)
	}
	return list, nil
}

// prefixed puts p before each name of a comma-separated column list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// nonNil returns s, or an empty slice when s is nil, so JSON shows [] not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
