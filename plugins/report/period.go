package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// Input is the plugin's input. Every field is optional.
type Input struct {
	Tenant string `json:"tenant"` // a tenant, or "*" / "" for every granted tenant
	From   string `json:"from"`   // RFC 3339; with To, the report's period [From, To)
	To     string `json:"to"`     // RFC 3339
}

// maxPeriod is the longest period one report covers (the log system's limit).
const maxPeriod = pdk.MaxLogRange

// parseInput decodes the input. An empty input (a cron schedule without
// input) is the zero Input: every granted tenant, the previous week.
func parseInput(b []byte) (Input, error) {
	var in Input
	if len(strings.TrimSpace(string(b))) == 0 {
		return in, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fmt.Errorf(`input: want JSON {"tenant","from","to"}: %w`, err)
	}
	return in, nil
}

// Period is a half-open time range [From, To).
type Period struct {
	From, To time.Time
}

// previousWeek returns the week before the one holding now: Monday 00:00 to
// Monday 00:00 in loc.
func previousWeek(now time.Time, loc *time.Location) Period {
	t := now.In(loc)
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	sinceMonday := (int(midnight.Weekday()) + 6) % 7
	monday := midnight.AddDate(0, 0, -sinceMonday)
	return Period{From: monday.AddDate(0, 0, -7), To: monday}
}

// resolvePeriod returns the period the input asks for: [from, to) when both
// are given, from until now when only from is, the week before to when only
// to is, and the previous week in loc when neither is.
func resolvePeriod(in Input, now time.Time, loc *time.Location) (Period, error) {
	parse := func(name, s string) (time.Time, error) {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return t, fmt.Errorf("input %s: %q is not an RFC 3339 time", name, s)
		}
		return t, nil
	}
	var p Period
	var err error
	switch {
	case in.From == "" && in.To == "":
		return previousWeek(now, loc), nil
	case in.From == "":
		if p.To, err = parse("to", in.To); err != nil {
			return p, err
		}
		p.From = p.To.AddDate(0, 0, -7)
	default:
		if p.From, err = parse("from", in.From); err != nil {
			return p, err
		}
		p.To = now
		if in.To != "" {
			if p.To, err = parse("to", in.To); err != nil {
				return p, err
			}
		}
	}
	if !p.From.Before(p.To) {
		return p, fmt.Errorf("input: from (%s) must be before to (%s)", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339))
	}
	if p.To.Sub(p.From) > maxPeriod {
		return p, fmt.Errorf("input: the period is %s, at most %d days allowed", p.To.Sub(p.From).Round(time.Hour), int(maxPeriod.Hours()/24))
	}
	return p, nil
}

// maxBuckets is the most rows a timeline has; longer periods are shown by week.
const maxBuckets = 62

// timeline splits p into calendar days in loc (the first and last may be
// partial), or into weeks when there would be more than maxBuckets days.
func timeline(p Period, loc *time.Location) []Period {
	step := 1
	if p.To.Sub(p.From) > maxBuckets*24*time.Hour {
		step = 7
	}
	var out []Period
	t := p.From.In(loc)
	start := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	for s := start; s.Before(p.To); s = s.AddDate(0, 0, step) {
		b := Period{From: s, To: s.AddDate(0, 0, step)}
		if b.From.Before(p.From) {
			b.From = p.From
		}
		if b.To.After(p.To) {
			b.To = p.To
		}
		out = append(out, b)
	}
	return out
}

// errAllTenants is returned when the input asks for every tenant but the grant
// is "*", which does not list them.
var errAllTenants = errors.New(`the grant covers every tenant ("*") without naming them: name the tenant in the input`)

// tenantsFor returns the tenants to report on: the requested one, or every
// tenant of the grant for "*" or "".
func tenantsFor(requested string, g *pdk.Grant) ([]string, error) {
	if requested != "" && requested != "*" {
		if g != nil && !g.AllowsTenant(requested) {
			return nil, fmt.Errorf("tenant %q is not in the plugin's grant", requested)
		}
		return []string{requested}, nil
	}
	if g == nil {
		return nil, errors.New("no grant to take the tenants from")
	}
	if g.AllTenants() {
		return nil, errAllTenants
	}
	ts := slices.Clone(g.Tenants)
	slices.Sort(ts)
	ts = slices.Compact(ts)
	if len(ts) == 0 {
		return nil, errors.New("the plugin's grant has no tenants")
	}
	return ts, nil
}

// periodLabel formats p for titles: dates only when both ends are midnights
// in loc (the end shown inclusive), times otherwise.
func periodLabel(p Period, loc *time.Location) string {
	f, t := p.From.In(loc), p.To.In(loc)
	if isMidnight(f) && isMidnight(t) {
		last := t.AddDate(0, 0, -1)
		if last.Equal(f) {
			return f.Format("2006-01-02")
		}
		return f.Format("2006-01-02") + " – " + last.Format("2006-01-02")
	}
	return f.Format("2006-01-02 15:04") + " – " + t.Format("2006-01-02 15:04 MST")
}

func isMidnight(t time.Time) bool {
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// isWeek reports whether p is one whole week from a Monday midnight in loc.
func isWeek(p Period, loc *time.Location) bool {
	f := p.From.In(loc)
	return isMidnight(f) && f.Weekday() == time.Monday && p.To.Equal(f.AddDate(0, 0, 7))
}

// Output is the plugin's output.
type Output struct {
	Reports []Published   `json:"reports"`
	Errors  []TenantError `json:"errors,omitempty"`
	Summary string        `json:"summary"`
}

// Published names one published report.
type Published struct {
	Tenant string `json:"tenant"`
	ID     string `json:"id"`
	Title  string `json:"title"`
}

// TenantError says why a tenant got no report.
type TenantError struct {
	Tenant string `json:"tenant"`
	Error  string `json:"error"`
}
