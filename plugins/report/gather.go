package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// Library is the part of the lhk library the report reads. In the plugin it
// is the host (hostLibrary); in tests a fake.
type Library interface {
	Top(pdk.TopRequest) (*pdk.TopResult, error)
	Count(pdk.CountRequest) (*pdk.CountResult, error)
	SearchTickets(pdk.TicketQuery) (*pdk.TicketList, error)
	FilterStats(tenant string, from, to time.Time) ([]pdk.FilterStat, error)
}

// Rule is a detection counted in the report: an event matches when it matches
// one of the alternatives. Their counts are added, so they should not
// overlap (a command line with both mimikatz and sekurlsa counts twice).
type Rule struct {
	Name         string
	Severity     string // how much a match matters: orders the highlights
	Alternatives []Match
}

// Match selects events: every word of Query (free text, which the logs
// store answers from its full-text index, so a rare word makes a query cheap
// on any volume) and every condition.
type Match struct {
	Query      string
	Conditions []pdk.Condition
}

// Rules are the detections every report counts. Each substring condition
// comes with a word for the full-text index: "-enc" is the word "enc".
var Rules = func() []Rule {
	office := Rule{Name: "Process started by an Office application", Severity: pdk.SeverityHigh}
	for _, app := range []string{"winword", "excel", "powerpnt", "outlook", "mspub", "onenote"} {
		office.Alternatives = append(office.Alternatives, Match{Query: app,
			Conditions: []pdk.Condition{pdk.Exists("process.name"), pdk.Contains("process.parent.name", app+".exe")}})
	}
	run := Rule{Name: "Run key starting a script", Severity: pdk.SeverityHigh}
	for _, interp := range []string{"powershell", "mshta", "wscript"} {
		// "Details" is the value Sysmon 13 logs; Run keys of ordinary
		// programs (OneDrive, Teams) do not match.
		run.Alternatives = append(run.Alternatives, Match{Query: "currentversion run " + interp,
			Conditions: []pdk.Condition{pdk.Contains("registry.path", `\CurrentVersion\Run`), pdk.Contains("Details", interp)}})
	}
	return []Rule{
		{Name: "Failed logons (4625)", Severity: pdk.SeverityLow, Alternatives: []Match{{Conditions: []pdk.Condition{pdk.Eq("event.code", "4625")}}}},
		{Name: "Encoded PowerShell", Severity: pdk.SeverityHigh, Alternatives: []Match{
			{Query: "enc", Conditions: []pdk.Condition{pdk.Contains("process.command_line", "-enc ")}},
			{Query: "encodedcommand", Conditions: []pdk.Condition{pdk.Contains("process.command_line", "-encodedcommand")}},
		}},
		office,
		{Name: "Credential-dumping tools", Severity: pdk.SeverityCritical, Alternatives: []Match{
			{Query: "mimikatz", Conditions: []pdk.Condition{pdk.Contains("process.command_line", "mimikatz")}},
			{Query: "sekurlsa", Conditions: []pdk.Condition{pdk.Contains("process.command_line", "sekurlsa")}},
		}},
		{Name: "Audit log cleared (1102)", Severity: pdk.SeverityHigh, Alternatives: []Match{{Conditions: []pdk.Condition{pdk.Eq("event.code", "1102")}}}},
		{Name: "Service installed (7045)", Severity: pdk.SeverityMedium, Alternatives: []Match{{Conditions: []pdk.Condition{pdk.Eq("event.code", "7045")}}}},
		run,
	}
}()

// TopSpec is one "top" list of the report.
type TopSpec struct {
	Title string
	Field string
	Web   bool // count only the web proxy's events (Options.WebDataset)
}

// Tops are the top lists every report shows.
var Tops = []TopSpec{
	{"hosts", "host.name", false},
	{"users", "user.name", false},
	{"destination IPs", "destination.ip", false},
	{"destination domains", "url.domain", true},
}

// Detection is a rule's result: how many events matched and on which hosts.
// Events the tenant's active analysis filters cover (known benign noise,
// such as a service account's failed logons) are counted apart: they are not
// what the detection reports.
type Detection struct {
	Name       string
	Severity   string
	Count      int64        // matches the filters do not cover
	Suppressed int64        // matches the filters cover
	Hosts      []pdk.Bucket // the hosts with the most uncovered matches, most first
}

// Top is a top list's result.
type Top struct {
	TopSpec
	Result *pdk.TopResult
}

// TicketStats counts the tickets opened in the period.
type TicketStats struct {
	Total      int
	ByStatus   map[string]int
	BySeverity map[string]int
	ByDay      []int64       // per bucket of Stats.Timeline
	Notable    []*pdk.Ticket // high and critical ones, newest first, at most maxNotable
	Truncated  bool          // more tickets than maxTickets: counts are a lower bound
}

// AlertStats counts the alerts the SIEM sent in the period, as alert-intake
// records them: the first delivery of an alert opens a ticket (with the
// alert id as its external key and a description starting "SIEM alert"),
// each repeat delivery comments on that ticket ("The SIEM raised this alert
// again …").
type AlertStats struct {
	Total      int            // Opened + Repeats
	Opened     int            // first deliveries: alert tickets opened in the period
	Repeats    int            // repeat deliveries in the period, on tickets of any age
	BySeverity map[string]int // by the severity of the alert's ticket
	ByDay      []int64        // per bucket of Stats.Timeline
	Truncated  bool           // more tickets than could be read: counts are a lower bound
}

// Stats is everything one tenant's report shows.
type Stats struct {
	Tenant     string
	Period     Period
	Total      int64
	Timeline   []Bucket
	Datasets   *pdk.TopResult
	Detections []Detection
	Tops       []Top
	Tickets    *TicketStats     // nil when not gathered (see Notes)
	Alerts     *AlertStats      // nil when not gathered (see Notes)
	Filters    []pdk.FilterStat // nil when not gathered (see Notes)
	Notes      []string         // sections left out and why
	Calls      int              // host calls made
}

// Bucket is one row of the timeline.
type Bucket struct {
	Period
	Count int64
}

// Limits of the gathering, so a report costs a bounded number of calls.
const (
	maxTickets  = 5000 // tickets read to count them (10 pages of 500)
	ticketPage  = 500
	maxNotable  = 10
	detectHosts = 5
	// repeatLookback is how long before the period an alert's ticket may
	// have been opened for its repeats in the period to be counted.
	repeatLookback = 30 * 24 * time.Hour
)

// Markers of alert-intake's tickets and comments (plugins/alert-intake).
const (
	alertDescription = "SIEM alert"
	repeatComment    = "The SIEM raised this alert again"
)

// isAlertTicket reports whether alert-intake opened t from a SIEM alert.
func isAlertTicket(t *pdk.Ticket) bool {
	return strings.HasPrefix(t.Description, alertDescription)
}

// bucketOf returns the index of the bucket holding t, or -1.
func bucketOf(days []Bucket, t time.Time) int {
	for i, d := range days {
		if !t.Before(d.From) && t.Before(d.To) {
			return i
		}
	}
	return -1
}

// Options tune the gathering.
type Options struct {
	Loc *time.Location
	Top int // length of the top lists
	// WebDataset is the event.dataset of the web proxy's logs, the events
	// with url.domain. Counting by a field the store does not index reads
	// every event of the period; this keeps it to the proxy's.
	WebDataset string
}

// DefaultWebDataset is the web proxy's event.dataset in the demo data.
const DefaultWebDataset = "proxy"

// Gather reads a tenant's period from lib. Logs are required; tickets and
// filters are optional: when refused as forbidden the report notes it and
// goes on.
func Gather(lib Library, tenant string, p Period, o Options) (*Stats, error) {
	if o.Loc == nil {
		o.Loc = time.UTC
	}
	if o.Top <= 0 {
		o.Top = 10
	}
	if o.WebDataset == "" {
		o.WebDataset = DefaultWebDataset
	}
	st := &Stats{Tenant: tenant, Period: p}
	count := func(p Period, cs []pdk.Condition) (int64, error) {
		st.Calls++
		res, err := lib.Count(pdk.CountRequest{Tenant: tenant, Fields: cs, From: p.From, To: p.To})
		if err != nil {
			return 0, err
		}
		return res.Count, nil
	}
	top := func(field string, cs []pdk.Condition, limit int) (*pdk.TopResult, error) {
		st.Calls++
		return lib.Top(pdk.TopRequest{Tenant: tenant, Field: field, Fields: cs, From: p.From, To: p.To, Limit: limit})
	}

	var err error
	if st.Total, err = count(p, nil); err != nil {
		return nil, fmt.Errorf("count %s's events: %w", tenant, err)
	}
	for _, b := range timeline(p, o.Loc) {
		n, err := count(b, nil)
		if err != nil {
			return nil, fmt.Errorf("count %s's events on %s: %w", tenant, b.From.Format(time.DateOnly), err)
		}
		st.Timeline = append(st.Timeline, Bucket{Period: b, Count: n})
	}
	if st.Datasets, err = top("event.dataset", nil, 20); err != nil {
		return nil, fmt.Errorf("top datasets of %s: %w", tenant, err)
	}
	// Filters first: whether any matched tells whether detections need
	// counting both with and without them.
	st.Calls++
	st.Filters, err = lib.FilterStats(tenant, p.From, p.To)
	filtered := true // unknown without filters.read: count both ways
	switch {
	case pdk.IsForbidden(err):
		st.Filters = nil
		st.Notes = append(st.Notes, "Analysis filters: not shown, the plugin is not granted filters.read.")
	case err != nil:
		return nil, fmt.Errorf("filter statistics of %s: %w", tenant, err)
	default:
		if st.Filters == nil {
			st.Filters = []pdk.FilterStat{}
		}
		filtered = slices.ContainsFunc(st.Filters, func(f pdk.FilterStat) bool { return f.Hits > 0 })
	}
	for _, r := range Rules {
		d := Detection{Name: r.Name, Severity: r.Severity}
		for _, alt := range r.Alternatives {
			// One Top answers both how many (events with a host name) and
			// where; the filters' noise is left out of both.
			st.Calls++
			req := pdk.TopRequest{Tenant: tenant, Field: "host.name", Query: alt.Query, Fields: alt.Conditions,
				From: p.From, To: p.To, Limit: detectHosts, ApplyFilters: true}
			hosts, err := lib.Top(req)
			if err != nil {
				return nil, fmt.Errorf("detection %q for %s: %w", r.Name, tenant, err)
			}
			d.Count += hosts.Total
			d.Hosts = mergeBuckets(d.Hosts, hosts.Buckets)
			if filtered {
				st.Calls++
				req.ApplyFilters, req.Limit = false, 1
				all, err := lib.Top(req)
				if err != nil {
					return nil, fmt.Errorf("detection %q for %s: %w", r.Name, tenant, err)
				}
				d.Suppressed += max(0, all.Total-hosts.Total)
			}
		}
		if len(d.Hosts) > detectHosts {
			d.Hosts = d.Hosts[:detectHosts]
		}
		st.Detections = append(st.Detections, d)
	}
	for _, spec := range Tops {
		var cs []pdk.Condition
		if spec.Web {
			cs = []pdk.Condition{pdk.Eq("event.dataset", o.WebDataset)}
		}
		res, err := top(spec.Field, cs, o.Top)
		if err != nil {
			return nil, fmt.Errorf("top %s of %s: %w", spec.Field, tenant, err)
		}
		st.Tops = append(st.Tops, Top{TopSpec: spec, Result: res})
	}

	st.Tickets, st.Alerts, err = gatherTickets(lib, tenant, p, st.Timeline, &st.Calls)
	switch {
	case pdk.IsForbidden(err):
		st.Notes = append(st.Notes, "Tickets and alerts: not shown, the plugin is not granted tickets.read.")
	case err != nil:
		return nil, fmt.Errorf("tickets of %s: %w", tenant, err)
	}
	return st, nil
}

// gatherTickets counts the tickets created in p, page by page, up to
// maxTickets, and the alerts received in p: the alert tickets among them,
// and the repeat deliveries commented in p on alert tickets opened in p or
// up to repeatLookback before it.
func gatherTickets(lib Library, tenant string, p Period, days []Bucket, calls *int) (*TicketStats, *AlertStats, error) {
	ts := &TicketStats{ByStatus: map[string]int{}, BySeverity: map[string]int{}, ByDay: make([]int64, len(days))}
	as := &AlertStats{BySeverity: map[string]int{}, ByDay: make([]int64, len(days))}
	alert := func(t *pdk.Ticket, at time.Time) {
		as.Total++
		as.BySeverity[t.Severity]++
		if i := bucketOf(days, at); i >= 0 {
			as.ByDay[i]++
		}
	}
	repeats := func(t *pdk.Ticket) {
		for _, c := range t.Comments {
			if strings.HasPrefix(c.Body, repeatComment) && !c.At.Before(p.From) && c.At.Before(p.To) {
				as.Repeats++
				alert(t, c.At)
			}
		}
	}
	read := 0
	// each reads the pages of q, calling fn for each ticket; it reports
	// whether it stopped at maxTickets.
	each := func(q pdk.TicketQuery, fn func(*pdk.Ticket)) (bool, error) {
		for {
			*calls++
			page, err := lib.SearchTickets(q)
			if err != nil {
				return false, err
			}
			for _, t := range page.Tickets {
				if read == maxTickets {
					return true, nil
				}
				read++
				fn(t)
			}
			if !page.Truncated || page.NextCursor == "" {
				return false, nil
			}
			q.Cursor = page.NextCursor
		}
	}
	trunc, err := each(pdk.TicketQuery{Tenant: tenant, From: &p.From, To: &p.To, Limit: ticketPage}, func(t *pdk.Ticket) {
		ts.Total++
		ts.ByStatus[t.Status]++
		ts.BySeverity[t.Severity]++
		if i := bucketOf(days, t.CreatedAt); i >= 0 {
			ts.ByDay[i]++
		}
		if (t.Severity == pdk.SeverityHigh || t.Severity == pdk.SeverityCritical) && len(ts.Notable) < maxNotable {
			ts.Notable = append(ts.Notable, t)
		}
		if isAlertTicket(t) {
			as.Opened++
			alert(t, t.CreatedAt)
			repeats(t)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	ts.Truncated, as.Truncated = trunc, trunc
	if trunc {
		return ts, as, nil
	}
	// Alerts repeated in the period whose ticket is older.
	since := p.From.Add(-repeatLookback)
	as.Truncated, err = each(pdk.TicketQuery{Tenant: tenant, Text: strings.ToLower(repeatComment), From: &since, To: &p.From, Limit: ticketPage},
		func(t *pdk.Ticket) {
			if isAlertTicket(t) {
				repeats(t)
			}
		})
	if err != nil {
		return nil, nil, err
	}
	return ts, as, nil
}

// mergeBuckets adds b's counts into a, keeping the result most frequent
// first (ties by value).
func mergeBuckets(a, b []pdk.Bucket) []pdk.Bucket {
	out := slices.Clone(a)
	for _, x := range b {
		i := slices.IndexFunc(out, func(y pdk.Bucket) bool { return y.Value == x.Value })
		if i < 0 {
			out = append(out, x)
			continue
		}
		out[i].Count += x.Count
	}
	slices.SortStableFunc(out, func(x, y pdk.Bucket) int {
		if x.Count != y.Count {
			if x.Count > y.Count {
				return -1
			}
			return 1
		}
		if x.Value < y.Value {
			return -1
		}
		if x.Value > y.Value {
			return 1
		}
		return 0
	})
	return out
}
