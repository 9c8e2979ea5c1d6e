package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/state"
)

const ticketColumns = `id, tenant, title, description, status, severity, assignee, reporter, external_key,
	events, observables, comments, created_at, updated_at`

// scanTicket reads one row of ticketColumns.
func scanTicket(row pgx.Row) (*lhk.Ticket, error) {
	var (
		t              lhk.Ticket
		extKey         *string
		evs, obs, cmts []byte
	)
	if err := row.Scan(&t.ID, &t.Tenant, &t.Title, &t.Description, &t.Status, &t.Severity, &t.Assignee, &t.Reporter,
		&extKey, &evs, &obs, &cmts, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return nil, err
	}
	if extKey != nil {
		t.ExternalKey = *extKey
	}
	if err := state.ReadTicketLists(&t, evs, obs, cmts); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return &t, nil
}

// getTicket reads one ticket of a tenant (locked for update in a write);
// ENOTFOUND when the tenant has no ticket with that id.
func getTicket(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, tenant, id string, lock bool) (*lhk.Ticket, error) {
	if !storable(id) {
		return nil, state.TicketNotFound(tenant, id)
	}
	sql := "SELECT " + ticketColumns + " FROM tickets WHERE tenant = $1 AND id = $2"
	if lock {
		sql += " FOR UPDATE"
	}
	t, err := scanTicket(q.QueryRow(ctx, sql, tenant, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, state.TicketNotFound(tenant, id)
	}
	return t, err
}

// saveTicket writes t (inserting when insert) and its observable index.
func saveTicket(ctx context.Context, tx pgx.Tx, t *lhk.Ticket, insert bool) error {
	r, err := state.NewTicketRow(t)
	if err != nil {
		return err
	}
	var extKey *string
	if t.ExternalKey != "" {
		extKey = &t.ExternalKey
	}
	if insert {
		_, err = tx.Exec(ctx, `INSERT INTO tickets (`+ticketColumns+`, search)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			t.ID, t.Tenant, t.Title, t.Description, t.Status, t.Severity, t.Assignee, t.Reporter, extKey,
			r.Events, r.Observables, r.Comments, t.CreatedAt, t.UpdatedAt, r.Search)
	} else {
		_, err = tx.Exec(ctx, `UPDATE tickets SET title = $1, description = $2, status = $3, severity = $4,
			assignee = $5, events = $6, observables = $7, comments = $8, updated_at = $9, search = $10
			WHERE tenant = $11 AND id = $12`,
			t.Title, t.Description, t.Status, t.Severity, t.Assignee, r.Events, r.Observables, r.Comments,
			t.UpdatedAt, r.Search, t.Tenant, t.ID)
	}
	if err != nil {
		return err
	}
	if len(r.ObservableKeys) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `INSERT INTO ticket_observables (ticket, tenant, value)
		SELECT $1, $2, v FROM unnest($3::text[]) AS v ON CONFLICT DO NOTHING`, t.ID, t.Tenant, r.ObservableKeys)
	return err
}

// CreateTicket stores a new ticket with a new id (TicketIDPrefix and a ULID)
// and returns it. Status defaults to open and severity to medium; Reporter to
// the context's actor. A zero CreatedAt is now; UpdatedAt is CreatedAt.
// Events and observables are checked and de-duplicated, comments take the
// current time. ECONFLICT when the tenant already has a ticket with the same
// non-empty ExternalKey (the message names that ticket), also when another
// replica creates it at the same moment.
func (db *DB) CreateTicket(ctx context.Context, in *lhk.Ticket) (*lhk.Ticket, error) {
	t, err := state.NewTicket(ctx, in, db.now())
	if err != nil {
		return nil, err
	}
	t.CreatedAt = stamp(t.CreatedAt)
	t.UpdatedAt = t.CreatedAt
	conflict := func() error {
		var id string
		err := db.pool.QueryRow(ctx, "SELECT id FROM tickets WHERE tenant = $1 AND external_key = $2", t.Tenant, t.ExternalKey).Scan(&id)
		if err != nil {
			return storeErr(err)
		}
		return state.ExternalKeyConflict(id, t.ExternalKey)
	}
	if t.ExternalKey != "" {
		if err := conflict(); lhk.ErrorCode(err) == lhk.ECONFLICT {
			return nil, fmt.Errorf("create ticket: %w", err)
		}
	}
	err = db.write(ctx, func(tx pgx.Tx) error { return saveTicket(ctx, tx, t, true) })
	if err != nil {
		if isUnique(err, "tickets_external_key") {
			err = conflict() // another replica won the race
		}
		return nil, fmt.Errorf("create ticket: %w", err)
	}
	return t, nil
}

// Ticket returns one ticket of a tenant; ENOTFOUND for an unknown id or one
// of another tenant.
func (db *DB) Ticket(ctx context.Context, tenant, id string) (*lhk.Ticket, error) {
	if err := state.CheckTenant(tenant); err != nil {
		return nil, err
	}
	t, err := getTicket(ctx, db.pool, tenant, id, false)
	if err != nil {
		return nil, fmt.Errorf("get ticket %q: %w", state.Short(id), storeErr(err))
	}
	return t, nil
}

// editTicket applies e to a tenant's ticket, locked in a transaction, and
// saves it.
func (db *DB) editTicket(ctx context.Context, tenant, id string, e state.TicketEdit) (*lhk.Ticket, error) {
	if err := state.CheckTenant(tenant); err != nil {
		return nil, e.Wrap(id, err)
	}
	var out *lhk.Ticket
	err := db.write(ctx, func(tx pgx.Tx) error {
		t, err := getTicket(ctx, tx, tenant, id, true)
		if err != nil {
			return err
		}
		if err := e.Apply(t, db.now()); err != nil {
			return err
		}
		if err := saveTicket(ctx, tx, t, false); err != nil {
			return err
		}
		out = t
		return nil
	})
	if err != nil {
		return nil, e.Wrap(id, err)
	}
	return out, nil
}

// UpdateTicket applies upd to a tenant's ticket: nil fields stay, AddEvents
// and AddObservables are appended without duplicates. ENOTFOUND for an
// unknown id or one of another tenant; EINVALID for a bad value.
func (db *DB) UpdateTicket(ctx context.Context, tenant, id string, upd lhk.TicketUpdate) (*lhk.Ticket, error) {
	return db.editTicket(ctx, tenant, id, state.UpdateTicket(upd))
}

// CommentTicket appends a comment stamped with the current time (c.At is
// ignored); an empty author is the context's actor. ENOTFOUND for an unknown
// id or one of another tenant.
func (db *DB) CommentTicket(ctx context.Context, tenant, id string, c lhk.Comment) (*lhk.Ticket, error) {
	return db.editTicket(ctx, tenant, id, state.CommentTicket(ctx, c))
}

// SearchTickets lists a tenant's tickets matching every set field of q,
// newest first (by CreatedAt, then id). Text matches title, description and
// comment bodies as a case-insensitive substring; Observable matches any
// observable's value (IPs in any notation, other values case-insensitively);
// ExternalKey matches exactly. Limit defaults to state.DefaultTicketLimit
// and is capped at state.MaxTicketLimit; Truncated and NextCursor say when
// more match.
func (db *DB) SearchTickets(ctx context.Context, q lhk.TicketQuery) (*lhk.TicketList, error) {
	cq, err := state.CheckTicketQuery(q)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where = append(where, "t.tenant = "+arg(q.Tenant))
	if q.Status != "" {
		where = append(where, "t.status = "+arg(q.Status))
	}
	if q.Severity != "" {
		where = append(where, "t.severity = "+arg(q.Severity))
	}
	if q.Assignee != "" {
		where = append(where, "t.assignee = "+arg(q.Assignee))
	}
	if q.Text != "" {
		where = append(where, "strpos(t.search, "+arg(cq.Text)+") > 0")
	}
	if q.Observable != "" {
		where = append(where, "EXISTS (SELECT 1 FROM ticket_observables o WHERE o.tenant = t.tenant AND o.value = "+
			arg(cq.Observable)+" AND o.ticket = t.id)")
	}
	if q.ExternalKey != "" {
		where = append(where, "t.external_key = "+arg(q.ExternalKey))
	}
	if q.From != nil {
		where = append(where, "t.created_at >= "+arg(*q.From))
	}
	if q.To != nil {
		where = append(where, "t.created_at < "+arg(*q.To))
	}
	if cur := cq.Cursor; cur != nil {
		where = append(where, "(t.created_at, t.id) < ("+arg(time.Unix(0, cur.At))+", "+arg(cur.ID)+")")
	}
	query := "SELECT " + prefixed("t.", ticketColumns) + " FROM tickets t WHERE " + strings.Join(where, " AND ") +
		" ORDER BY t.created_at DESC, t.id DESC LIMIT " + arg(cq.Limit+1)
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search tickets: %w", storeErr(err))
	}
	defer rows.Close()
	var ts []*lhk.Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("search tickets: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search tickets: %w", storeErr(err))
	}
	return state.TicketPage(q.Tenant, ts, cq.Limit), nil
}

// prefixed puts p before each name of a comma-separated column list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
