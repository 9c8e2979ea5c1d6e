package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/state"
)

// Get returns the value of ns/key; ENOTFOUND when the key is absent.
func (db *DB) Get(ctx context.Context, ns, key string) (string, error) {
	if err := state.CheckKey(ns, key); err != nil {
		return "", err
	}
	var v []byte
	err := db.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, "SELECT value FROM kv WHERE ns = ? AND key = ?", ns, key).Scan(&v)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", state.KeyNotFound(key)
	}
	if err != nil {
		return "", fmt.Errorf("kv get %q: %w", state.Short(key), err)
	}
	return string(v), nil
}

// Set stores value under ns/key, replacing any value. Values are kept byte
// for byte and may be empty; at most lhk.MaxKVValue bytes.
func (db *DB) Set(ctx context.Context, ns, key, value string) error {
	if err := state.CheckSet(ns, key, value); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO kv (ns, key, value) VALUES (?, ?, ?)
			ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value`, ns, key, []byte(value))
		return err
	})
	if err != nil {
		return fmt.Errorf("kv set %q: %w", state.Short(key), err)
	}
	return nil
}

// Delete removes ns/key; deleting an absent key is not an error.
func (db *DB) Delete(ctx context.Context, ns, key string) error {
	if err := state.CheckKey(ns, key); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM kv WHERE ns = ? AND key = ?", ns, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("kv delete %q: %w", state.Short(key), err)
	}
	return nil
}

// List returns the entries of ns whose keys start with prefix and sort after
// `after` (byte order), in key order. Limit defaults to state.DefaultKVLimit
// and is capped at state.MaxKVLimit; a negative limit is EINVALID. To page,
// pass the last key of a page as the next call's after.
func (db *DB) List(ctx context.Context, ns, prefix, after string, limit int) ([]lhk.KVEntry, error) {
	limit, err := state.CheckList(ns, prefix, after, limit)
	if err != nil {
		return nil, err
	}
	// Keys are valid UTF-8, which never holds the byte 0xff, so every key
	// with the prefix sorts below prefix+"\xff". substr and length would
	// count characters, not bytes; the range stays on the index.
	q := "SELECT key, value FROM kv WHERE ns = ? AND key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?"
	es := []lhk.KVEntry{}
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, ns, prefix, prefix+"\xff", after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				k string
				v []byte
			)
			if err := rows.Scan(&k, &v); err != nil {
				return err
			}
			es = append(es, lhk.KVEntry{Key: k, Value: string(v)})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("kv list %q: %w", state.Short(prefix), err)
	}
	return es, nil
}
