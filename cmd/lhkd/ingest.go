package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/systems/logpg"
	"github.com/lhk-soc/lhk/systems/logsqlite"
)

// ingestFiles is `lhkd ingest`: it reads NDJSON files (or the NDJSON files in
// .zip archives, or - for standard input) straight into the logs store that
// `lhkd serve` with the same --data and --db uses: PostgreSQL when --db is a
// postgres:// URL, else logs.db in the data directory. A running lhkd on the
// same store sees the events at once.
func ingestFiles(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lhkd ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("LHK_DATA", "./lhk-data"), "data directory (env LHK_DATA)")
	db := fs.String("db", os.Getenv("LHK_DB"), "database URL; empty means SQLite in the data directory (env LHK_DB)")
	tenant := fs.String("tenant", "", "tenant of events that name none")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lhkd ingest [--data DIR] [--db URL] [--tenant NAME] FILE.ndjson|FILE.zip|- ...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("name at least one file to ingest")
	}
	store, err := openLogStore(ctx, *data, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	total := lhk.IngestResult{Errors: []lhk.IngestError{}}
	add := func(name string, r io.Reader) error {
		res, err := store.Ingest(ctx, *tenant, r)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(stderr, "%s: %d accepted, %d rejected\n", name, res.Accepted, res.Rejected)
		for _, e := range res.Errors {
			fmt.Fprintf(stderr, "  %s:%d: %s\n", name, e.Line, e.Message)
		}
		total.Accepted += res.Accepted
		total.Rejected += res.Rejected
		return nil
	}
	for _, name := range fs.Args() {
		switch {
		case name == "-":
			err = add("stdin", os.Stdin)
		case strings.EqualFold(filepath.Ext(name), ".zip"):
			err = ingestZip(name, add)
		default:
			err = ingestFile(name, add)
		}
		if err != nil {
			return err
		}
	}
	return json.NewEncoder(stdout).Encode(map[string]int{"accepted": total.Accepted, "rejected": total.Rejected})
}

// openLogStore opens the logs store serve picks for the same --data and --db
// (see openStores): logpg for a postgres:// URL, logs.db in dir for nothing.
func openLogStore(ctx context.Context, dir, db string) (logStore, error) {
	switch {
	case db == "" || strings.HasPrefix(db, "sqlite:"):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		s, err := logsqlite.Open(ctx, filepath.Join(dir, "logs.db"))
		if err != nil {
			return nil, fmt.Errorf("open logs: %w", err)
		}
		return s, nil
	case pgdb.IsURL(db):
		s, err := logpg.Open(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("open logs: %w", err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("--db %s: want a postgres:// URL, or nothing for SQLite in the data directory", pgdb.Redact(db))
	}
}

func ingestFile(name string, add func(string, io.Reader) error) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return add(name, f)
}

// ingestZip ingests every file of an archive, as security datasets ship.
func ingestZip(name string, add func(string, io.Reader) error) error {
	z, err := zip.OpenReader(name)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer z.Close()
	for _, f := range z.File {
		if f.FileInfo().IsDir() || strings.HasPrefix(filepath.Base(f.Name), ".") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("%s!%s: %w", name, f.Name, err)
		}
		err = add(name+"!"+f.Name, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
