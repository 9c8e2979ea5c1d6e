package logsqlite

import (
	"context"
	"fmt"
	"io"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/logquery"
)

// columns are the ECS fields copied into indexed columns
// (logquery.KeywordFields), by column name. Their values are stored as
// strings (numbers are turned into strings at ingest, as ECS types them
// keyword).
var columns = map[string]string{
	"host.name":      "host",
	"user.name":      "usr",
	"source.ip":      "src_ip",
	"destination.ip": "dst_ip",
	"process.name":   "process",
	"event.code":     "code",
	"event.dataset":  "dataset",
}

// Ingest reads NDJSON, one event per line, and stores the valid ones in
// batches of IngestBatch per transaction. Blank lines are skipped. When
// defaultTenant is set, an event naming another tenant is rejected: a caller
// allowed to write one tenant cannot write into another. With defaultTenant
// empty every event must name its tenant. Accepted lines are stored even when
// others are rejected; on an error (or a cancelled ctx) the batches committed
// before it stay stored.
func (s *Store) Ingest(ctx context.Context, defaultTenant string, r io.Reader) (*lhk.IngestResult, error) {
	return logquery.Ingest(ctx, r, defaultTenant, IngestBatch, s.insert)
}

// insert writes one batch in one transaction.
func (s *Store) insert(ctx context.Context, rows []logquery.Row) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return s.storeErr(ctx, nil, fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback()
	ev, err := tx.PrepareContext(ctx, `INSERT INTO events (tenant, ts, host, usr, src_ip, dst_ip, process, code, dataset, raw)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ev.Close()
	ft, err := tx.PrepareContext(ctx, "INSERT INTO events_fts (rowid, text) VALUES (?, ?)")
	if err != nil {
		return err
	}
	defer ft.Close()
	var cols [7]any
	for i := range rows {
		r := &rows[i]
		for j, f := range logquery.KeywordFields {
			cols[j] = nil
			if v, ok := r.Fields[f].(string); ok {
				cols[j] = v
			}
		}
		res, err := ev.ExecContext(ctx, r.Tenant, r.Time.UnixNano(), cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], string(r.JSON))
		if err != nil {
			return s.storeErr(ctx, nil, fmt.Errorf("insert event: %w", err))
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := ft.ExecContext(ctx, seq, r.Text); err != nil {
			return s.storeErr(ctx, nil, fmt.Errorf("index event: %w", err))
		}
	}
	if err := tx.Commit(); err != nil {
		return s.storeErr(ctx, nil, fmt.Errorf("commit: %w", err))
	}
	return nil
}
