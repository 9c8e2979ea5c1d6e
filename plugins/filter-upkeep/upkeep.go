package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// Input is the plugin's input. Every field is optional.
type Input struct {
	Tenant    string `json:"tenant"`     // a tenant, or "*" / "" for every granted tenant
	StaleDays int    `json:"stale_days"` // the window without hits that makes a filter stale (default 30)
}

// Default and largest stale_days.
const (
	defaultStaleDays = 30
	maxStaleDays     = 400
)

// parseInput decodes the input; an empty input (a schedule without input)
// is every granted tenant with the default window.
func parseInput(b []byte) (Input, error) {
	var in Input
	if len(strings.TrimSpace(string(b))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return in, fmt.Errorf(`input: want JSON {"tenant","stale_days"}: %w`, err)
		}
	}
	switch {
	case in.StaleDays == 0:
		in.StaleDays = defaultStaleDays
	case in.StaleDays < 0 || in.StaleDays > maxStaleDays:
		return in, fmt.Errorf("input stale_days: %d is not between 1 and %d", in.StaleDays, maxStaleDays)
	}
	return in, nil
}

// tenantsFor returns the tenants to look after: the requested one, or every
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
		return nil, errors.New(`the grant covers every tenant ("*") without naming them: name the tenant in the input`)
	}
	ts := slices.Clone(g.Tenants)
	slices.Sort(ts)
	ts = slices.Compact(ts)
	if len(ts) == 0 {
		return nil, errors.New("the plugin's grant has no tenants")
	}
	return ts, nil
}

// Config is the plugin's configuration.
type Config struct {
	Channel       string  // notification channel
	DeleteExpired bool    // delete expired filters instead of only reporting them
	MaxProposals  int     // proposals per tenant
	MinShare      float64 // percent of the window's events a proposed pattern has at least
	MinEvents     int64   // events a proposed pattern has at least
	ExpireDays    int     // expiry suggested for a proposed filter
}

// DefaultConfig is the configuration without any key set.
var DefaultConfig = Config{Channel: "soc", MaxProposals: 5, MinShare: 1, MinEvents: 100, ExpireDays: 90}

// parseConfig reads the configuration through get (pdk.Config in the plugin).
func parseConfig(get func(string) (string, bool)) (Config, error) {
	c := DefaultConfig
	if v, ok := get("channel"); ok && v != "" {
		c.Channel = v
	}
	if v, ok := get("delete_expired"); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("config delete_expired: %q is not true or false", v)
		}
		c.DeleteExpired = b
	}
	ints := []struct {
		key      string
		dst      *int
		min, max int
	}{{"max_proposals", &c.MaxProposals, 0, 50}, {"expire_days", &c.ExpireDays, 1, 3650}}
	for _, k := range ints {
		if v, ok := get(k.key); ok && v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < k.min || n > k.max {
				return c, fmt.Errorf("config %s: %q is not a number from %d to %d", k.key, v, k.min, k.max)
			}
			*k.dst = n
		}
	}
	if v, ok := get("min_events"); ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return c, fmt.Errorf("config min_events: %q is not a positive number", v)
		}
		c.MinEvents = n
	}
	if v, ok := get("min_share"); ok && v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 100 {
			return c, fmt.Errorf("config min_share: %q is not a percentage", v)
		}
		c.MinShare = f
	}
	return c, nil
}

// Library is the part of the lhk library the plugin uses. In the plugin it is
// the host (hostLibrary); in tests a fake.
type Library interface {
	ListFilters(tenant string, includeExpired bool) ([]pdk.Filter, error)
	FilterStats(tenant string, from, to time.Time) ([]pdk.FilterStat, error)
	DeleteFilter(tenant, name string) error
	Top(pdk.TopRequest) (*pdk.TopResult, error)
	Count(pdk.CountRequest) (*pdk.CountResult, error)
}

// Marker is a detection marker: an event matching one of the alternatives
// is suspicious, so no suppression may cover it, nor any pattern on its host
// or user. Failed logons are not a marker: a service account retrying a
// stale password is the classic noise.
type Marker struct {
	Name         string
	Alternatives []Match
}

// Match selects events: every word of Query (free text, which the logs
// store answers from its full-text index, so a rare word makes a query cheap
// on any volume) and every condition.
type Match struct {
	Query      string
	Conditions []pdk.Condition
}

// Markers are the detection markers every proposal is checked against. Each
// substring condition comes with a word for the full-text index.
var Markers = func() []Marker {
	office := Marker{Name: "a process started by an Office program"}
	for _, app := range []string{"winword", "excel", "powerpnt", "outlook", "mspub", "onenote"} {
		office.Alternatives = append(office.Alternatives, Match{Query: app,
			Conditions: []pdk.Condition{pdk.Exists("process.name"), pdk.Contains("process.parent.name", app+".exe")}})
	}
	run := Marker{Name: "a Run key starting a script"}
	for _, interp := range []string{"powershell", "mshta", "wscript"} {
		// "Details" is the value Sysmon 13 logs; Run keys of ordinary
		// programs (OneDrive, Teams) do not match.
		run.Alternatives = append(run.Alternatives, Match{Query: "currentversion run " + interp,
			Conditions: []pdk.Condition{pdk.Contains("registry.path", `\CurrentVersion\Run`), pdk.Contains("Details", interp)}})
	}
	return []Marker{
		{Name: "encoded PowerShell", Alternatives: []Match{
			{Query: "enc", Conditions: []pdk.Condition{pdk.Contains("process.command_line", "-enc ")}},
			{Query: "encodedcommand", Conditions: []pdk.Condition{pdk.Contains("process.command_line", "-encodedcommand")}},
		}},
		office,
		{Name: "a credential-dumping tool", Alternatives: []Match{
			{Query: "mimikatz", Conditions: []pdk.Condition{pdk.Contains("process.command_line", "mimikatz")}},
			{Query: "sekurlsa", Conditions: []pdk.Condition{pdk.Contains("process.command_line", "sekurlsa")}},
		}},
		run,
		{Name: "a cleared audit log (1102)", Alternatives: []Match{{Conditions: []pdk.Condition{pdk.Eq("event.code", "1102")}}}},
		{Name: "a new service (7045)", Alternatives: []Match{{Conditions: []pdk.Condition{pdk.Eq("event.code", "7045")}}}},
	}
}()

// Shape is a kind of noise pattern: the events sharing a value of First and
// a value of Second, e.g. one program on one host.
type Shape struct {
	First, Second string
	What          string // how the Markdown names it
}

// Shapes are the patterns proposals are looked for in, in this order.
var Shapes = []Shape{
	{"host.name", "process.name", "one program on one host"},
	{"event.code", "process.name", "one program's events of one kind on every host"},
	{"event.code", "user.target.name", "one account's events of one kind, such as a service account's logon failures"},
	{"event.code", "user.name", "one user's events of one kind"},
	{"event.action", "destination.port", "one network action on one port, such as denied broadcasts"},
}

// Breadth of the candidate search: values of a shape's first field, then of
// its second field under each.
const (
	firstValues  = 5
	secondValues = 3
)

// Period is a half-open time range [From, To).
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Expired is a filter past its expiry date.
type Expired struct {
	Tenant    string    `json:"tenant"`
	Name      string    `json:"name"`
	Owner     string    `json:"owner"`
	Reason    string    `json:"reason"`
	ExpiresAt time.Time `json:"expires_at"`
	Deleted   bool      `json:"deleted"`
	Error     string    `json:"error,omitempty"` // why deleting failed
}

// Stale is an active filter that matched nothing in the window.
type Stale struct {
	Tenant    string     `json:"tenant"`
	Name      string     `json:"name"`
	Owner     string     `json:"owner"`
	Reason    string     `json:"reason"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	LastHit   *time.Time `json:"last_hit"` // the filter's last recorded hit, if any, before the window
}

// Proposal is a suppression proposed to a person: a filter they may create.
type Proposal struct {
	Tenant     string          `json:"tenant"`
	Name       string          `json:"name"`
	Conditions []pdk.Condition `json:"conditions"`
	Events     int64           `json:"events"`
	Share      float64         `json:"share"` // percent of the window's events
	Why        string          `json:"why"`
	Filter     Draft           `json:"filter"` // the filter to paste into filters/upsert
}

// Draft is a filter as a person would create it with POST /v1/filters/upsert.
type Draft struct {
	Tenant     string          `json:"tenant"`
	Name       string          `json:"name"`
	Conditions []pdk.Condition `json:"conditions"`
	Reason     string          `json:"reason"`
	ExpiresAt  time.Time       `json:"expires_at"`
}

// Withheld is a frequent pattern not proposed, and why.
type Withheld struct {
	Tenant     string          `json:"tenant"`
	Conditions []pdk.Condition `json:"conditions"`
	Events     int64           `json:"events"`
	Reason     string          `json:"reason"`
}

// Result is the upkeep of one tenant.
type Result struct {
	Tenant    string     `json:"tenant"`
	Window    Period     `json:"window"`
	Events    int64      `json:"events"` // in the window
	Filters   int        `json:"filters"`
	Expired   []Expired  `json:"expired"`
	Stale     []Stale    `json:"stale"`
	Proposals []Proposal `json:"proposals"`
	Withheld  []Withheld `json:"withheld"`
	Calls     int        `json:"calls"`
}

// candidate is a frequent pattern before the marker checks.
type candidate struct {
	shape  Shape
	conds  []pdk.Condition
	events int64
}

func (c candidate) key() string {
	b, _ := json.Marshal(c.conds)
	return string(b)
}

// Upkeep looks after one tenant's filters as of now, with a window of
// staleDays days. It never creates or changes a filter; it deletes expired
// ones only with cfg.DeleteExpired.
func Upkeep(lib Library, tenant string, now time.Time, staleDays int, cfg Config) (*Result, error) {
	w := Period{From: now.AddDate(0, 0, -staleDays), To: now}
	r := &Result{Tenant: tenant, Window: w, Expired: []Expired{}, Stale: []Stale{}, Proposals: []Proposal{}, Withheld: []Withheld{}}

	r.Calls++
	filters, err := lib.ListFilters(tenant, true)
	if err != nil {
		return nil, fmt.Errorf("list %s's filters: %w", tenant, err)
	}
	r.Filters = len(filters)
	var active []pdk.Filter
	for _, f := range filters {
		if f.Active(now) {
			active = append(active, f)
			continue
		}
		e := Expired{Tenant: tenant, Name: f.Name, Owner: f.Owner, Reason: f.Reason, ExpiresAt: *f.ExpiresAt}
		if cfg.DeleteExpired {
			r.Calls++
			switch err := lib.DeleteFilter(tenant, f.Name); {
			case err == nil, pdk.IsNotFound(err): // deleted, by us or meanwhile
				e.Deleted = true
			default:
				e.Error = err.Error()
			}
		}
		r.Expired = append(r.Expired, e)
	}

	if len(active) > 0 {
		r.Calls++
		stats, err := lib.FilterStats(tenant, w.From, w.To)
		if err != nil {
			return nil, fmt.Errorf("statistics of %s's filters: %w", tenant, err)
		}
		hits := map[string]int64{}
		for _, s := range stats {
			hits[s.Name] = s.Hits
		}
		for _, f := range active {
			if hits[f.Name] == 0 {
				r.Stale = append(r.Stale, Stale{Tenant: tenant, Name: f.Name, Owner: f.Owner, Reason: f.Reason, CreatedAt: f.CreatedAt, ExpiresAt: f.ExpiresAt, LastHit: f.LastHit})
			}
		}
	}

	if cfg.MaxProposals == 0 {
		return r, nil
	}
	if err := propose(lib, r, now, cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// firedMarker is a marker alternative with events in the window.
type firedMarker struct {
	name string
	Match
}

// Marks are what the detection markers that fired in the window point at.
type Marks struct {
	Fired        []firedMarker
	Hosts        MarkSet // host.name of marker events
	Users        MarkSet // user.name of marker events
	Processes    MarkSet // process.name of marker events
	Destinations MarkSet // destination.ip contacted by a process of a marker event
}

// MarkSet maps a lower-cased value to the value as logged and the first
// marker that pointed at it.
type MarkSet map[string]Mark

// Mark is one marked value.
type Mark struct {
	Value  string
	Marker string
}

func (s MarkSet) add(value, marker string) {
	k := strings.ToLower(value)
	if _, ok := s[k]; !ok && k != "" {
		s[k] = Mark{Value: value, Marker: marker}
	}
}

// get looks value up ignoring case.
func (s MarkSet) get(value string) (Mark, bool) {
	m, ok := s[strings.ToLower(value)]
	return m, ok
}

// Bounds of the marker scan.
const (
	markedValues   = 100 // values of each field taken from a marker's events
	markedEntities = 20  // processes (process.entity_id) whose connections are followed
)

// markFields are the fields whose values in marker events mark a pattern.
var markFields = []string{"host.name", "user.name", "process.name", "process.entity_id"}

// scanMarkers counts each marker in the window and collects what the fired
// ones point at.
func scanMarkers(q *querier) (*Marks, error) {
	m := &Marks{Hosts: MarkSet{}, Users: MarkSet{}, Processes: MarkSet{}, Destinations: MarkSet{}}
	entities := MarkSet{}
	sets := map[string]MarkSet{"host.name": m.Hosts, "user.name": m.Users, "process.name": m.Processes, "process.entity_id": entities}
	for _, mk := range Markers {
		for _, alt := range mk.Alternatives {
			n, err := q.countMatch(alt.Query, alt.Conditions)
			if err != nil {
				return nil, fmt.Errorf("marker %q: %w", mk.Name, err)
			}
			if n == 0 {
				continue
			}
			m.Fired = append(m.Fired, firedMarker{mk.Name, alt})
			for _, field := range markFields {
				res, err := q.topMatch(field, alt.Query, alt.Conditions, markedValues)
				if err != nil {
					return nil, fmt.Errorf("marker %q: %w", mk.Name, err)
				}
				for _, b := range res.Buckets {
					sets[field].add(b.Value, mk.Name)
				}
			}
		}
	}
	ids := entities.sorted()
	for _, id := range ids[:min(len(ids), markedEntities)] {
		res, err := q.top("destination.ip", []pdk.Condition{pdk.Eq("process.entity_id", id.Value)}, markedValues, false)
		if err != nil {
			return nil, fmt.Errorf("connections of process %s: %w", id.Value, err)
		}
		for _, b := range res.Buckets {
			m.Destinations.add(b.Value, id.Marker)
		}
	}
	return m, nil
}

// sorted returns the marks by value.
func (s MarkSet) sorted() []Mark {
	out := make([]Mark, 0, len(s))
	for _, m := range s {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Mark) int { return strings.Compare(a.Value, b.Value) })
	return out
}

// querier runs a tenant's window queries and counts them.
type querier struct {
	lib    Library
	tenant string
	w      Period
	calls  *int
}

func (q *querier) count(cs []pdk.Condition) (int64, error) {
	*q.calls++
	res, err := q.lib.Count(pdk.CountRequest{Tenant: q.tenant, Fields: cs, From: q.w.From, To: q.w.To})
	if err != nil {
		return 0, err
	}
	return res.Count, nil
}

// countMatch counts the events matching query and cs. The log system counts
// only by conditions, so with a query it counts through Top: the events
// with a host name, which marker events (process, registry and Windows
// events) always have.
func (q *querier) countMatch(query string, cs []pdk.Condition) (int64, error) {
	if query == "" {
		return q.count(cs)
	}
	res, err := q.topMatch("host.name", query, cs, 1)
	if err != nil {
		return 0, err
	}
	return res.Total, nil
}

func (q *querier) topMatch(field, query string, cs []pdk.Condition, limit int) (*pdk.TopResult, error) {
	*q.calls++
	return q.lib.Top(pdk.TopRequest{Tenant: q.tenant, Field: field, Query: query, Fields: cs, From: q.w.From, To: q.w.To, Limit: limit})
}

func (q *querier) top(field string, cs []pdk.Condition, limit int, applyFilters bool) (*pdk.TopResult, error) {
	*q.calls++
	return q.lib.Top(pdk.TopRequest{Tenant: q.tenant, Field: field, Fields: cs, From: q.w.From, To: q.w.To, Limit: limit, ApplyFilters: applyFilters})
}

// candidates returns the frequent patterns of every shape that no active
// filter covers, with at least threshold events, most frequent first.
func candidates(q *querier, threshold int64) ([]candidate, error) {
	var cands []candidate
	for _, s := range Shapes {
		firsts, err := q.top(s.First, []pdk.Condition{pdk.Exists(s.Second)}, firstValues, true)
		if err != nil {
			return nil, fmt.Errorf("top %s: %w", s.First, err)
		}
		for _, b1 := range firsts.Buckets {
			if b1.Count < threshold {
				break
			}
			seconds, err := q.top(s.Second, []pdk.Condition{pdk.Eq(s.First, b1.Value)}, secondValues, true)
			if err != nil {
				return nil, fmt.Errorf("top %s of %s %q: %w", s.Second, s.First, b1.Value, err)
			}
			for _, b2 := range seconds.Buckets {
				if b2.Count < threshold {
					break
				}
				if placeholder(b1.Value) || placeholder(b2.Value) || builtinAccount(s.First, b1.Value) || builtinAccount(s.Second, b2.Value) {
					continue
				}
				cands = append(cands, candidate{shape: s, events: b2.Count,
					conds: []pdk.Condition{pdk.Eq(s.First, b1.Value), pdk.Eq(s.Second, b2.Value)}})
			}
		}
	}
	return rankCandidates(cands), nil
}

// attackerTools are programs built into Windows that attackers use to live
// off the land; no proposal suppresses them by name.
var attackerTools = []string{
	"cmd.exe", "powershell.exe", "pwsh.exe", "powershell_ise.exe", "rundll32.exe", "regsvr32.exe", "mshta.exe",
	"wscript.exe", "cscript.exe", "certutil.exe", "bitsadmin.exe", "wmic.exe", "msbuild.exe", "installutil.exe",
	"schtasks.exe", "reg.exe", "net.exe", "net1.exe", "nltest.exe", "whoami.exe", "psexec.exe", "psexec64.exe", "psexesvc.exe",
}

// check returns why a candidate must not be proposed, or "" when it may be:
// it names a program attackers often use; its conditions name a marked host,
// user, process or destination; some of its events match a marker; or some
// involve a marked user or a marked destination.
func check(q *querier, c candidate, m *Marks) (string, error) {
	for _, cd := range c.conds {
		var set MarkSet
		switch cd.Field {
		case "host.name":
			set = m.Hosts
		case "user.name", "user.target.name":
			set = m.Users
		case "process.name":
			set = m.Processes
		case "destination.ip":
			set = m.Destinations
		}
		if mk, ok := set.get(fmt.Sprint(cd.Value)); ok {
			return fmt.Sprintf("%s %s showed %s", cd.Field, cd.Value, mk.Marker), nil
		}
	}
	for _, cd := range c.conds {
		if cd.Field == "process.name" && slices.Contains(attackerTools, strings.ToLower(fmt.Sprint(cd.Value))) {
			return fmt.Sprintf("%s is a program attackers often use: suppressing it would hide them", cd.Value), nil
		}
	}
	for _, f := range m.Fired {
		n, err := q.countMatch(f.Query, append(slices.Clone(c.conds), f.Conditions...))
		if err != nil {
			return "", err
		}
		if n > 0 {
			return fmt.Sprintf("%d of its events show %s", n, f.name), nil
		}
	}
	for _, o := range []struct {
		field string
		set   MarkSet
		what  string
	}{
		{"user.name", m.Users, "user %s, who showed %s"},
		{"user.target.name", m.Users, "user %s, who showed %s"},
		{"destination.ip", m.Destinations, "destination %s, contacted by a process that showed %s"},
	} {
		if len(o.set) == 0 {
			continue
		}
		res, err := q.top(o.field, c.conds, markedValues, false)
		if err != nil {
			return "", err
		}
		seen := map[string]bool{}
		for _, b := range res.Buckets {
			seen[b.Value] = true
			if mk, ok := o.set.get(b.Value); ok {
				return fmt.Sprintf("%d of its events involve "+o.what, b.Count, b.Value, mk.Marker), nil
			}
		}
		if res.Other == 0 {
			continue
		}
		// More values than buckets: ask for each marked value not seen.
		for _, mk := range o.set.sorted()[:min(len(o.set), markedValues)] {
			if seen[mk.Value] {
				continue
			}
			n, err := q.count(append(slices.Clone(c.conds), pdk.Eq(o.field, mk.Value)))
			if err != nil {
				return "", err
			}
			if n > 0 {
				return fmt.Sprintf("%d of its events involve "+o.what, n, mk.Value, mk.Marker), nil
			}
		}
	}
	return "", nil
}

// propose fills r.Proposals and r.Withheld.
func propose(lib Library, r *Result, now time.Time, cfg Config) error {
	q := &querier{lib: lib, tenant: r.Tenant, w: r.Window, calls: &r.Calls}
	var err error
	if r.Events, err = q.count(nil); err != nil {
		return fmt.Errorf("count %s's events: %w", r.Tenant, err)
	}
	threshold := max(cfg.MinEvents, int64(math.Ceil(float64(r.Events)*cfg.MinShare/100)))
	cands, err := candidates(q, threshold)
	if err != nil {
		return fmt.Errorf("frequent patterns of %s: %w", r.Tenant, err)
	}
	if len(cands) == 0 {
		return nil
	}
	marks, err := scanMarkers(q)
	if err != nil {
		return fmt.Errorf("detection markers of %s: %w", r.Tenant, err)
	}
	for i, c := range cands {
		if len(r.Proposals) == cfg.MaxProposals || i == 4*cfg.MaxProposals {
			break
		}
		reason, err := overlap(q, c, r.Proposals)
		if err == nil && reason == "" {
			reason, err = check(q, c, marks)
		}
		if err != nil {
			return fmt.Errorf("check a pattern of %s: %w", r.Tenant, err)
		}
		if reason != "" {
			r.Withheld = append(r.Withheld, Withheld{Tenant: r.Tenant, Conditions: c.conds, Events: c.events, Reason: reason})
			continue
		}
		r.Proposals = append(r.Proposals, newProposal(r.Tenant, c, r.Events, staleWindowDays(r.Window), now, cfg))
	}
	return nil
}

// placeholder reports whether a value stands for "no value" in logs, such
// as the "-" of a Windows event without a subject user: a pattern on it
// names nothing.
func placeholder(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "-", "null", "none", "n/a", "unknown":
		return true
	}
	return false
}

// builtinAccount reports whether value is a built-in Windows account of a
// user field (SYSTEM, the service accounts, machine accounts ending in $).
// Nearly every program runs as one, so a pattern on it is not one noise
// source but everything of a kind, and would hide services an attacker
// starts as SYSTEM.
func builtinAccount(field, value string) bool {
	if field != "user.name" && field != "user.target.name" {
		return false
	}
	v := strings.ToUpper(strings.TrimSpace(value))
	switch v {
	case "SYSTEM", "LOCAL SYSTEM", "LOCALSYSTEM", "LOCAL SERVICE", "NETWORK SERVICE", "ANONYMOUS LOGON":
		return true
	}
	return strings.HasSuffix(v, "$") || strings.HasPrefix(v, "DWM-") || strings.HasPrefix(v, "UMFD-")
}

// overlap returns why c repeats an earlier proposal (most of its events are
// the proposal's), or "".
func overlap(q *querier, c candidate, proposals []Proposal) (string, error) {
	for _, p := range proposals {
		n, err := q.count(append(slices.Clone(c.conds), p.Conditions...))
		if err != nil {
			return "", err
		}
		if n*10 >= c.events*9 {
			return fmt.Sprintf("%d of its events are those of proposal %s", n, p.Name), nil
		}
	}
	return "", nil
}

// rankCandidates orders candidates by events, most first, and drops repeats.
func rankCandidates(cs []candidate) []candidate {
	slices.SortStableFunc(cs, func(a, b candidate) int { return cmp.Compare(b.events, a.events) })
	seen := map[string]bool{}
	out := cs[:0]
	for _, c := range cs {
		if k := c.key(); !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}

func staleWindowDays(w Period) int { return int(math.Round(w.To.Sub(w.From).Hours() / 24)) }

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// filterName suggests a filter name from a pattern's values.
func filterName(conds []pdk.Condition) string {
	var parts []string
	for _, c := range conds {
		parts = append(parts, strings.Trim(nonName.ReplaceAllString(strings.ToLower(fmt.Sprint(c.Value)), "-"), "-"))
	}
	name := "noise-" + strings.Join(parts, "-")
	if len(name) > 64 {
		name = strings.TrimRight(name[:64], "-")
	}
	return name
}

// newProposal turns a checked candidate into a proposal.
func newProposal(tenant string, c candidate, total int64, days int, now time.Time, cfg Config) Proposal {
	share := 0.0
	if total > 0 {
		share = math.Round(float64(c.events)*1000/float64(total)) / 10
	}
	var desc []string
	for _, cd := range c.conds {
		desc = append(desc, fmt.Sprintf("%s = %v", cd.Field, cd.Value))
	}
	why := fmt.Sprintf("%s events (%.1f%% of the tenant's events in the last %d days) share %s: %s. No active filter covers them, none of them shows a detection marker, and its host or user showed none either.",
		strconv.FormatInt(c.events, 10), share, days, strings.Join(desc, " and "), c.shape.What)
	name := filterName(c.conds)
	expires := now.AddDate(0, 0, cfg.ExpireDays).UTC().Truncate(24 * time.Hour)
	return Proposal{
		Tenant: tenant, Name: name, Conditions: c.conds, Events: c.events, Share: share, Why: why,
		Filter: Draft{Tenant: tenant, Name: name, Conditions: c.conds, ExpiresAt: expires,
			Reason: fmt.Sprintf("Benign noise proposed by filter-upkeep on %s: %s.", now.UTC().Format(time.DateOnly), c.shape.What)},
	}
}

// Output is the plugin's output: the findings of every tenant together.
type Output struct {
	Tenants   []string      `json:"tenants"` // the tenants looked after
	Expired   []Expired     `json:"expired"`
	Stale     []Stale       `json:"stale"`
	Proposals []Proposal    `json:"proposals"`
	Withheld  []Withheld    `json:"withheld"`
	Notified  []string      `json:"notified,omitempty"` // tenants whose notification was sent
	Errors    []TenantError `json:"errors,omitempty"`
	Summary   string        `json:"summary"`
}

// TenantError says why a tenant's upkeep failed.
type TenantError struct {
	Tenant string `json:"tenant"`
	Error  string `json:"error"`
}

// add appends a tenant's findings.
func (o *Output) add(r *Result) {
	o.Tenants = append(o.Tenants, r.Tenant)
	o.Expired = append(o.Expired, r.Expired...)
	o.Stale = append(o.Stale, r.Stale...)
	o.Proposals = append(o.Proposals, r.Proposals...)
	o.Withheld = append(o.Withheld, r.Withheld...)
}
