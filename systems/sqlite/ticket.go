package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/state"
)

const ticketColumns = `id, tenant, title, description, status, severity, assignee, reporter, external_key,
	events, observables, comments, created_at, updated_at`

// scanTicket reads one row of ticketColumns.
func scanTicket(row interface{ Scan(...any) error }) (*lhk.Ticket, error) {
	var (
		t                lhk.Ticket
		extKey           sql.NullString
		evs, obs, cmts   []byte
		created, updated int64
	)
	if err := row.Scan(&t.ID, &t.Tenant, &t.Title, &t.Description, &t.Status, &t.Severity, &t.Assignee, &t.Reporter,
		&extKey, &evs, &obs, &cmts, &created, &updated); err != nil {
		return nil, err
	}
	t.ExternalKey = extKey.String
	if err := state.ReadTicketLists(&t, evs, obs, cmts); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromNano(created), fromNano(updated)
	return &t, nil
}

// getTicket reads one ticket of a tenant in tx; ENOTFOUND when the tenant has
// no ticket with that id.
func getTicket(ctx context.Context, tx *sql.Tx, tenant, id string) (*lhk.Ticket, error) {
	t, err := scanTicket(tx.QueryRowContext(ctx, "SELECT "+ticketColumns+" FROM tickets WHERE tenant = ? AND id = ?", tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, state.TicketNotFound(tenant, id)
	}
	return t, err
}

// saveTicket writes t (inserting when insert) and its observable index.
func saveTicket(ctx context.Context, tx *sql.Tx, t *lhk.Ticket, insert bool) error {
	r, err := state.NewTicketRow(t)
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
			r.Events, r.Observables, r.Comments, t.CreatedAt.UnixNano(), t.UpdatedAt.UnixNano(), r.Search)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE tickets SET title = ?, description = ?, status = ?, severity = ?,
			assignee = ?, events = ?, observables = ?, comments = ?, updated_at = ?, search = ?
			WHERE tenant = ? AND id = ?`,
			t.Title, t.Description, t.Status, t.Severity, t.Assignee, r.Events, r.Observables, r.Comments,
			t.UpdatedAt.UnixNano(), r.Search, t.Tenant, t.ID)
	}
	if err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, "INSERT OR IGNORE INTO ticket_observables (ticket, tenant, value) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	defer st.Close()
	for _, k := range r.ObservableKeys {
		if _, err := st.ExecContext(ctx, t.ID, t.Tenant, k); err != nil {
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
	t, err := state.NewTicket(ctx, in, fromNano(db.now().UnixNano()))
	if err != nil {
		return nil, err
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		if t.ExternalKey != "" {
			var id string
			err := tx.QueryRowContext(ctx, "SELECT id FROM tickets WHERE tenant = ? AND external_key = ?", t.Tenant, t.ExternalKey).Scan(&id)
			if err == nil {
				return state.ExternalKeyConflict(id, t.ExternalKey)
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

// Ticket returns one ticket of a tenant; ENOTFOUND for an unknown id or one
// of another tenant.
func (db *DB) Ticket(ctx context.Context, tenant, id string) (*lhk.Ticket, error) {
	if err := state.CheckTenant(tenant); err != nil {
		return nil, err
	}
	var t *lhk.Ticket
	err := db.read(ctx, func(tx *sql.Tx) (err error) {
		t, err = getTicket(ctx, tx, tenant, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get ticket %q: %w", state.Short(id), err)
	}
	return t, nil
}

// editTicket applies e to a tenant's ticket in a write transaction and
// saves it.
func (db *DB) editTicket(ctx context.Context, tenant, id string, e state.TicketEdit) (*lhk.Ticket, error) {
	if err := state.CheckTenant(tenant); err != nil {
		return nil, e.Wrap(id, err)
	}
	var out *lhk.Ticket
	err := db.write(ctx, func(tx *sql.Tx) error {
		t, err := getTicket(ctx, tx, tenant, id)
		if err != nil {
			return err
		}
		if err := e.Apply(t, fromNano(db.now().UnixNano())); err != nil {
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
// ExternalKey matches exactly. Limit defaults to state.DefaultTicketLimit and
// is capped at state.MaxTicketLimit; Truncated and NextCursor say when more
// match.
func (db *DB) SearchTickets(ctx context.Context, q lhk.TicketQuery) (*lhk.TicketList, error) {
	cq, err := state.CheckTicketQuery(q)
	if err != nil {
		return nil, err
	}
	where := []string{"t.tenant = ?"}
	args := []any{q.Tenant}
	if q.Status != "" {
		where, args = append(where, "t.status = ?"), append(args, q.Status)
	}
	if q.Severity != "" {
		where, args = append(where, "t.severity = ?"), append(args, q.Severity)
	}
	if q.Assignee != "" {
		where, args = append(where, "t.assignee = ?"), append(args, q.Assignee)
	}
	if q.Text != "" {
		where, args = append(where, "instr(t.search, ?) > 0"), append(args, cq.Text)
	}
	if q.Observable != "" {
		where = append(where, "EXISTS (SELECT 1 FROM ticket_observables o WHERE o.tenant = t.tenant AND o.value = ? AND o.ticket = t.id)")
		args = append(args, cq.Observable)
	}
	if q.ExternalKey != "" {
		where, args = append(where, "t.external_key = ?"), append(args, q.ExternalKey)
	}
	if q.From != nil {
		where, args = append(where, "t.created_at >= ?"), append(args, q.From.UnixNano())
	}
	if q.To != nil {
		where, args = append(where, "t.created_at < ?"), append(args, q.To.UnixNano())
	}
	if cur := cq.Cursor; cur != nil {
		where, args = append(where, "(t.created_at, t.id) < (?, ?)"), append(args, cur.At, cur.ID)
	}
	limit := cq.Limit
	query := "SELECT " + prefixed("t.", ticketColumns) + " FROM tickets t WHERE " + strings.Join(where, " AND ") +
		" ORDER BY t.created_at DESC, t.id DESC LIMIT ?"
	var ts []*lhk.Ticket
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
			ts = append(ts, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("search tickets: %w", err)
	}
	return state.TicketPage(q.Tenant, ts, limit), nil
}

// prefixed puts p before each name of a comma-separated column list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
