package logquery

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/check"
)

// KeywordFields are the common ECS fields the stores index for field search.
// ECS types them keyword, so ingest turns numbers and booleans in them into
// strings, and conditions on them compare strings only.
var KeywordFields = []string{"host.name", "user.name", "source.ip", "destination.ip", "process.name", "event.code", "event.dataset"}

// IsKeyword reports whether field is one of KeywordFields.
func IsKeyword(field string) bool {
	switch field {
	case "host.name", "user.name", "source.ip", "destination.ip", "process.name", "event.code", "event.dataset":
		return true
	}
	return false
}

// Row is one accepted NDJSON line, ready to store.
type Row struct {
	Tenant string
	Time   time.Time      // "@timestamp"
	Fields map[string]any // the event flattened, ECS fields added, without "tenant" and "_id"; numbers are json.Number
	JSON   []byte         // Fields encoded
	Text   string         // what free text searches: EventText(Fields)
}

// Ingest reads NDJSON, one event per line, and hands the valid ones to store
// in batches of at most batch rows. Blank lines are skipped. When
// defaultTenant is set, an event naming another tenant is rejected: a caller
// allowed to write one tenant cannot write into another. With defaultTenant
// empty every event must name its tenant. Accepted lines are stored even when
// others are rejected; on an error of store (or a cancelled ctx) the batches
// stored before it stay stored.
func Ingest(ctx context.Context, r io.Reader, defaultTenant string, batch int, store func(ctx context.Context, rows []Row) error) (*lhk.IngestResult, error) {
	if defaultTenant != "" {
		if err := CheckTenant(defaultTenant); err != nil {
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
	rows := make([]Row, 0, batch)
	var buf []byte
	for line := 1; ; line++ {
		b, tooLong, err := readLine(br, &buf)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read ndjson line %d: %w", line, err)
		}
		if tooLong {
			reject(line, fmt.Sprintf("line is longer than %d bytes", lhk.MaxIngestLine))
		} else if len(bytes.TrimSpace(b)) > 0 {
			rw, msg := ParseEvent(b, defaultTenant)
			if msg != "" {
				reject(line, msg)
			} else {
				rows = append(rows, rw)
			}
		}
		if len(rows) == batch || (errors.Is(err, io.EOF) && len(rows) > 0) {
			if werr := store(ctx, rows); werr != nil {
				return nil, fmt.Errorf("ingest: %w", werr)
			}
			res.Accepted += len(rows)
			rows = rows[:0]
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

// ParseEvent checks and prepares one NDJSON line: the JSON object is
// flattened, Windows events get their ECS fields (MapWindows) and
// KeywordFields holding numbers or booleans become strings. It returns a
// message for the caller when the line is rejected.
func ParseEvent(line []byte, defaultTenant string) (Row, string) {
	var rw Row
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
	rw.Time = ts

	tenant := defaultTenant
	if t, ok := e["tenant"]; ok {
		name, isStr := t.(string)
		switch {
		case !isStr:
			return rw, fmt.Sprintf(`"tenant" must be a string, got %s`, jsonType(t))
		case defaultTenant != "" && name != defaultTenant:
			return rw, fmt.Sprintf(`"tenant" is %q but this ingest is for tenant %q`, Short(name), defaultTenant)
		}
		tenant = name
	}
	if tenant == "" {
		return rw, `no tenant: set "tenant" in the event or ingest for a tenant (?tenant=…)`
	}
	if err := CheckTenant(tenant); err != nil {
		return rw, lhk.ErrorMessage(err)
	}
	rw.Tenant = tenant
	delete(e, "tenant")
	delete(e, "_id")

	MapWindows(e)

	for _, f := range KeywordFields {
		switch v := e[f].(type) {
		case json.Number:
			e[f] = v.String()
		case bool:
			e[f] = fmt.Sprint(v)
		}
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return rw, "cannot encode event: " + err.Error()
	}
	rw.Fields = e
	rw.JSON = raw
	rw.Text = EventText(e)
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
		return time.Time{}, fmt.Sprintf(`"@timestamp" %q is not RFC 3339%s`, Short(s), hint)
	}
	if t.Before(check.MinTime) || !t.Before(check.MaxTime) {
		return time.Time{}, fmt.Sprintf(`"@timestamp" %q is outside the years 1970–2261`, Short(s))
	}
	return t, ""
}

// EventText is what free text searches: the event's distinct string and
// number values, one a line, in the order of their fields' names, without
// its @timestamp. The order is fixed so that a phrase running from one value
// into the next matches the same events in every store and every time.
func EventText(e map[string]any) string {
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
			for _, k := range slices.Sorted(maps.Keys(v)) {
				add(v[k])
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(e)) {
		if k == "@timestamp" {
			continue
		}
		add(e[k])
	}
	return sb.String()
}

// Decode reads a stored event's JSON with numbers as json.Number, as they
// were ingested.
func Decode(raw []byte) (lhk.Event, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	e := lhk.Event{}
	if err := dec.Decode(&e); err != nil {
		return nil, err
	}
	return e, nil
}

// CheckTenant validates a tenant name: 1–check.MaxTenant bytes of printable UTF-8,
// and not the wildcard "*" that grants use for all tenants.
func CheckTenant(tenant string) error { return check.Tenant(tenant, printable) }

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

// Short cuts s to 64 bytes for an error message, so hostile input is not
// echoed in full (check.Short).
func Short(s string) string { return check.Short(s) }

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
