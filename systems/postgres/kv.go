package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/internal/state"
)

// Get returns the value of ns/key; ENOTFOUND when the key is absent.
func (db *DB) Get(ctx context.Context, ns, key string) (string, error) {
	if err := state.CheckKey(ns, key); err != nil {
		return "", err
	}
	var v []byte
	err := db.pool.QueryRow(ctx, "SELECT value FROM kv WHERE ns = $1 AND key = $2", ns, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", state.KeyNotFound(key)
	}
	if err != nil {
		return "", fmt.Errorf("kv get %q: %w", state.Short(key), storeErr(err))
	}
	return string(v), nil
}

// Set stores value under ns/key, replacing any value. Values are kept byte
// for byte and may be empty; at most lhk.MaxKVValue bytes.
func (db *DB) Set(ctx context.Context, ns, key, value string) error {
	if err := state.CheckSet(ns, key, value); err != nil {
		return err
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO kv (ns, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value`, ns, key, []byte(value))
	if err != nil {
		return fmt.Errorf("kv set %q: %w", state.Short(key), storeErr(err))
	}
	return nil
}

// Delete removes ns/key; deleting an absent key is not an error.
func (db *DB) Delete(ctx context.Context, ns, key string) error {
	if err := state.CheckKey(ns, key); err != nil {
		return err
	}
	if _, err := db.pool.Exec(ctx, "DELETE FROM kv WHERE ns = $1 AND key = $2", ns, key); err != nil {
		return fmt.Errorf("kv delete %q: %w", state.Short(key), storeErr(err))
	}
	return nil
}

// List returns the entries of ns whose keys start with prefix and sort after
// `after` (byte order), in key order. Limit defaults to
// state.DefaultKVLimit and is capped at state.MaxKVLimit; a negative limit
// is EINVALID. To page, pass the last key of a page as the next call's
// after.
func (db *DB) List(ctx context.Context, ns, prefix, after string, limit int) ([]lhk.KVEntry, error) {
	limit, err := state.CheckList(ns, prefix, after, limit)
	if err != nil {
		return nil, err
	}
	es := []lhk.KVEntry{}
	if !storable(prefix) {
		return es, nil // no key holds NUL
	}
	if i := strings.IndexByte(after, 0); i >= 0 {
		// No key holds NUL, so the keys above after are those above
		// what comes before its first NUL.
		after = after[:i]
	}
	// The keys are in the C collation: byte order, and a prefix is a range
	// on the primary key.
	q := "SELECT key, value FROM kv WHERE ns = $1 AND key >= $2 AND key > $3"
	args := []any{ns, prefix, after}
	if end, ok := pgdb.PrefixEnd(prefix); ok {
		q += " AND key < $4"
		args = append(args, end)
	}
	q += fmt.Sprintf(" ORDER BY key LIMIT %d", limit)
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("kv list %q: %w", state.Short(prefix), storeErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k string
			v []byte
		)
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("kv list %q: %w", state.Short(prefix), err)
		}
		es = append(es, lhk.KVEntry{Key: k, Value: string(v)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("kv list %q: %w", state.Short(prefix), storeErr(err))
	}
	return es, nil
}
