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
	"github.com/lhk-soc/lhk/systems/logsqlite"
)

// ingestFiles is `lhkd ingest`: it reads NDJSON files (or the NDJSON files in
// .zip archives, or - for standard input) straight into the logs store of a
// data directory. A running lhkd on the same directory sees the events at once.
func ingestFiles(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lhkd ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("LHK_DATA", "./lhk-data"), "data directory (env LHK_DATA)")
	tenant := fs.String("tenant", "", "tenant of events that name none")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lhkd ingest [--data DIR] [--tenant NAME] FILE.ndjson|FILE.zip|- ...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("name at least one file to ingest")
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	store, err := logsqlite.Open(ctx, filepath.Join(*data, "logs.db"))
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
