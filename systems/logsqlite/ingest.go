package logsqlite

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lhk-soc/lhk"
)

// MaxTenant is the longest tenant name, in bytes.
const MaxTenant = 128

// Times must lie in this range, which Unix nanoseconds can hold.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// columns are the ECS fields copied into indexed columns, by column name.
// Their values are stored as strings (numbers are turned into strings at
// ingest, as ECS types them keyword).
var columns = map[string]string{
	"host.name":      "host",
	"user.name":      "usr",
	"source.ip":      "src_ip",
	"destination.ip": "dst_ip",
	"process.name":   "process",
	"event.code":     "code",
	"event.dataset":  "dataset",
}

// columnOrder is the order of the column values in an insert.
var columnOrder = []string{"host.name", "user.name", "source.ip", "destination.ip", "process.name", "event.code", "event.dataset"}

// row is one parsed event ready to insert.
type row struct {
	tenant string
	ts     int64
	cols   [7]any
	raw    []byte
	text   string
}

// Ingest reads NDJSON, one event per line, and stores the valid ones in
// batches of IngestBatch per transaction. Blank lines are skipped. When
// defaultTenant is set, an event naming another tenant is rejected: a caller
// allowed to write one tenant cannot write into another. With defaultTenant
// empty every event must name its tenant. Accepted lines are stored even when
// others are rejected; on an error (or a cancelled ctx) the batches committed
// before it stay stored.
func (s *Store) Ingest(ctx context.Context, defaultTenant string, r io.Reader) (*lhk.IngestResult, error) {
	if defaultTenant != "" {
		if err := checkTenant(defaultTenant); err != nil {
			return nil, err
		}
	}
	res := &lhk.IngestResult{Errors: []lhk.IngestError{}}
	reject := func(line int, msg string) {
		res.Rejected++
		if len(res.Errors) < lhk.MaxIngestErrors {
			res.Errors = append(res.Errors, lhk.IngestError{Line: line, Message: msg})
		}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	batch := make([]row, 0, IngestBatch)
	var buf []byte
	for line := 1; ; line++ {
		b, tooLong, err := readLine(br, &buf)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read ndjson line %d: %w", line, err)
		}
		if tooLong {
			reject(line, fmt.Sprintf("line is longer than %d bytes", lhk.MaxIngestLine))
		} else if len(bytes.TrimSpace(b)) > 0 {
			rw, msg := parseEvent(b, defaultTenant)
			if msg != "" {
				reject(line, msg)
			} else {
				batch = append(batch, rw)
			}
		}
		if len(batch) == IngestBatch || (errors.Is(err, io.EOF) && len(batch) > 0) {
			if werr := s.insert(ctx, batch); werr != nil {
				return nil, fmt.Errorf("ingest: %w", werr)
			}
			res.Accepted += len(batch)
			batch = batch[:0]
		}
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
	}
}

// readLine reads one line without its newline into *buf. A line longer than
// lhk.MaxIngestLine is read to its end and dropped (tooLong). err is io.EOF
// at the end of input, with the last line (if any) in b.
func readLine(br *bufio.Reader, buf *[]byte) (b []byte, tooLong bool, err error) {
	*buf = (*buf)[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(*buf)+len(chunk) > lhk.MaxIngestLine+2 {
				tooLong = true
				*buf = (*buf)[:0]
			} else {
				*buf = append(*buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		b = bytes.TrimSuffix(*buf, []byte{'\n'})
		b = bytes.TrimSuffix(b, []byte{'\r'})
		if !tooLong && len(b) > lhk.MaxIngestLine {
			tooLong = true
		}
		return b, tooLong, err
	}
}

// parseEvent checks and prepares one line. It returns a message for the
// caller when the line is rejected.
func parseEvent(line []byte, defaultTenant string) (row, string) {
	var rw row
	if !utf8.Valid(line) {
		return rw, "line is not valid UTF-8"
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return rw, "invalid JSON: " + jsonErr(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return rw, "invalid JSON: more than one value on the line (one event per line)"
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return rw, fmt.Sprintf("an event must be a JSON object, got %s", jsonType(v))
	}
	e := make(map[string]any, len(obj)+24)
	flatten(e, "", obj)

	ts, msg := parseTimestamp(e)
	if msg != "" {
		return rw, msg
	}
	rw.ts = ts.UnixNano()

	tenant := defaultTenant
	if t, ok := e["tenant"]; ok {
		name, isStr := t.(string)
		switch {
		case !isStr:
			return rw, fmt.Sprintf(`"tenant" must be a string, got %s`, jsonType(t))
		case defaultTenant != "" && name != defaultTenant:
			return rw, fmt.Sprintf(`"tenant" is %q but this ingest is for tenant %q`, short(name), defaultTenant)
		}
		tenant = name
	}
	if tenant == "" {
		return rw, `no tenant: set "tenant" in the event or ingest for a tenant (?tenant=…)`
	}
	if err := checkTenant(tenant); err != nil {
		return rw, lhk.ErrorMessage(err)
	}
	rw.tenant = tenant
	delete(e, "tenant")
	delete(e, "_id")

	mapWindows(e)

	for i, f := range columnOrder {
		switch v := e[f].(type) {
		case string:
			rw.cols[i] = v
		case json.Number:
			e[f] = v.String()
			rw.cols[i] = v.String()
		case bool:
			s := fmt.Sprint(v)
			e[f] = s
			rw.cols[i] = s
		}
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return rw, "cannot encode event: " + err.Error()
	}
	rw.raw = raw
	rw.text = eventText(e)
	return rw, ""
}

// flatten copies obj into e with nested objects' keys joined by dots:
// {"host":{"name":"a"}} becomes {"host.name":"a"}. Arrays are kept as they are.
func flatten(e map[string]any, prefix string, obj map[string]any) {
	for k, v := range obj {
		if prefix != "" {
			k = prefix + "." + k
		}
		if m, ok := v.(map[string]any); ok {
			flatten(e, k, m)
			continue
		}
		e[k] = v
	}
}

// parseTimestamp reads "@timestamp" strictly as RFC 3339 and says how to fix
// the common near misses.
func parseTimestamp(e map[string]any) (time.Time, string) {
	const example = `such as "2026-11-01T09:30:00Z"`
	v, ok := e["@timestamp"]
	if !ok {
		return time.Time{}, `"@timestamp" is missing: add an RFC 3339 time ` + example
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Sprintf(`"@timestamp" must be an RFC 3339 string %s, got %s`, example, jsonType(v))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		hint := ""
		fixed := s
		if len(fixed) > 10 && (fixed[10] == ' ' || fixed[10] == 't') {
			hint = `: put "T" between the date and the time`
			fixed = fixed[:10] + "T" + fixed[11:]
		}
		if _, err2 := time.Parse("2006-01-02T15:04:05.999999999", fixed); err2 == nil {
			if hint == "" {
				hint = `: add a time zone ("Z" for UTC, or an offset such as +09:00)`
			} else {
				hint += ` and add a time zone ("Z" for UTC, or an offset such as +09:00)`
			}
		}
		if hint == "" {
			hint = " " + example
		}
		return time.Time{}, fmt.Sprintf(`"@timestamp" %q is not RFC 3339%s`, short(s), hint)
	}
	if t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, fmt.Sprintf(`"@timestamp" %q is outside the years 1970–2261`, short(s))
	}
	return t, ""
}

// eventText is what free text searches: the event's distinct string and
// number values, one a line, without its @timestamp.
func eventText(e map[string]any) string {
	var sb strings.Builder
	seen := make(map[string]struct{}, len(e))
	var add func(v any)
	add = func(v any) {
		switch v := v.(type) {
		case string:
			if v == "" {
				return
			}
			if _, ok := seen[v]; ok {
				return
			}
			seen[v] = struct{}{}
			sb.WriteString(v)
			sb.WriteByte('\n')
		case json.Number:
			add(v.String())
		case []any:
			for _, x := range v {
				add(x)
			}
		case map[string]any:
			for _, x := range v {
				add(x)
			}
		}
	}
	for k, v := range e {
		if k == "@timestamp" {
			continue
		}
		add(v)
	}
	return sb.String()
}

// insert writes one batch in one transaction.
func (s *Store) insert(ctx context.Context, rows []row) error {
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
	for i := range rows {
		r := &rows[i]
		res, err := ev.ExecContext(ctx, r.tenant, r.ts, r.cols[0], r.cols[1], r.cols[2], r.cols[3], r.cols[4], r.cols[5], r.cols[6], string(r.raw))
		if err != nil {
			return s.storeErr(ctx, nil, fmt.Errorf("insert event: %w", err))
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := ft.ExecContext(ctx, seq, r.text); err != nil {
			return s.storeErr(ctx, nil, fmt.Errorf("index event: %w", err))
		}
	}
	if err := tx.Commit(); err != nil {
		return s.storeErr(ctx, nil, fmt.Errorf("commit: %w", err))
	}
	return nil
}

// checkTenant validates a tenant name: 1–MaxTenant bytes of printable UTF-8,
// and not the wildcard "*" that grants use for all tenants.
func checkTenant(tenant string) error {
	switch {
	case tenant == "":
		return lhk.Errorf(lhk.EINVALID, "tenant is required")
	case tenant == "*":
		return lhk.Errorf(lhk.EINVALID, `tenant "*" means all tenants: name one tenant`)
	case len(tenant) > MaxTenant:
		return lhk.Errorf(lhk.EINVALID, "tenant is %d bytes, at most %d allowed", len(tenant), MaxTenant)
	case !printable(tenant):
		return lhk.Errorf(lhk.EINVALID, "tenant %q must be printable UTF-8", short(tenant))
	}
	return nil
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// short cuts s for an error message.
func short(s string) string {
	if len(s) <= 64 {
		return s
	}
	i := 64
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// jsonErr shortens a JSON decoding error for a caller.
func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the line ends inside a value"
	}
	return err.Error()
}
