package demo

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Defaults of Options.
const (
	DefaultDays         = 7
	DefaultEventsPerDay = 5000
)

// Bounds of Options, so a typo cannot fill a disk.
const (
	MaxDays         = 366
	MaxEventsPerDay = 10_000_000
)

// Options say what Generate writes. Zero fields take the defaults.
type Options struct {
	// Start is the first day (default DefaultStart); it is taken in UTC and
	// truncated to midnight.
	Start time.Time
	// Days is how many days of events to write (default DefaultDays).
	Days int
	// EventsPerDay is the mean number of background events a day of each
	// tenant (default DefaultEventsPerDay): a tenant's background holds exactly
	// Days × EventsPerDay events, weekdays busier than weekends. The attack
	// story comes on top.
	EventsPerDay int
	// Seed picks the random choices; the same options give the same bytes.
	Seed uint64
	// Tenants restricts the output to some tenants (default: Tenants).
	Tenants []string
}

// Stats counts what Generate wrote.
type Stats struct {
	Events   int                       // every event
	ByTenant map[string]int            // events of each tenant
	ByKind   map[string]map[string]int // tenant → kind (the event.dataset the store gives it) → events
	ByDay    map[string][]int          // tenant → events of each day, from Start
	Noise    map[string]map[string]int // tenant → NoisePattern.Name → events
	Story    int                       // events of the attack story
	From, To time.Time                 // the time range the events lie in: [From, To)
}

// Kinds of events, as the store's event.dataset names them.
const (
	KindSysmon     = "windows.sysmon"
	KindSecurity   = "windows.security"
	KindPowerShell = "windows.powershell"
	KindEventLog   = "windows.eventlog"
	KindProxy      = "proxy"
	KindFirewall   = "firewall"
	KindAuth       = "auth"
	KindMail       = "mail"
)

// withDefaults checks o and fills in its zero fields.
func (o Options) withDefaults() (Options, error) {
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = o.Start.UTC().Truncate(24 * time.Hour)
	if o.Days == 0 {
		o.Days = DefaultDays
	}
	if o.EventsPerDay == 0 {
		o.EventsPerDay = DefaultEventsPerDay
	}
	if o.Days < 0 || o.Days > MaxDays {
		return o, fmt.Errorf("demo: days %d out of range 1–%d", o.Days, MaxDays)
	}
	if o.EventsPerDay < 0 || o.EventsPerDay > MaxEventsPerDay {
		return o, fmt.Errorf("demo: events per day %d out of range 1–%d", o.EventsPerDay, MaxEventsPerDay)
	}
	if len(o.Tenants) == 0 {
		o.Tenants = Tenants
	}
	for _, t := range o.Tenants {
		if _, ok := profiles[t]; !ok {
			return o, fmt.Errorf("demo: unknown tenant %q (known: %v)", t, Tenants)
		}
	}
	return o, nil
}

// Generate writes the demo dataset to w as NDJSON: one event a line, each
// with "@timestamp" (RFC 3339, UTC, milliseconds) and "tenant", ordered by
// time. Windows events are in NXLog form (Hostname, EventID, Channel, Image…),
// which the logs store maps to ECS at ingest; proxy, firewall, authentication
// and mail events carry ECS names already. The attack story (see Story) is in
// acme when the range covers StoryTime. Generate is deterministic: the same
// options give byte-identical output.
func Generate(opts Options, w io.Writer) (Stats, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return Stats{}, err
	}
	st := Stats{
		ByTenant: map[string]int{}, ByKind: map[string]map[string]int{},
		ByDay: map[string][]int{}, Noise: map[string]map[string]int{},
		From: o.Start, To: o.Start.AddDate(0, 0, o.Days),
	}
	for _, t := range o.Tenants {
		st.ByKind[t] = map[string]int{}
		st.ByDay[t] = make([]int, o.Days)
		st.Noise[t] = map[string]int{}
	}
	var story batch
	if slices.Contains(o.Tenants, Story.Tenant) {
		genStory(&story, rand.New(rand.NewPCG(o.Seed, 0x5709)), o.Start)
	}
	perDay := dayCounts(o)
	bw := bufio.NewWriterSize(w, 256<<10)
	var day batch
	var line []byte
	for d := range o.Days {
		day.reset()
		dayStart := o.Start.AddDate(0, 0, d)
		for _, t := range o.Tenants {
			r := rand.New(rand.NewPCG(o.Seed, uint64(tenantIndex(t)+1)<<32|uint64(d)))
			genDay(&day, r, profiles[t], dayStart, perDay[d])
		}
		day.copyRange(&story, dayStart.UnixNano(), dayStart.AddDate(0, 0, 1).UnixNano())
		slices.SortStableFunc(day.events, func(a, b event) int { return cmp.Compare(a.ts, b.ts) })
		for i := range day.events {
			e := &day.events[i]
			line = day.appendJSON(line[:0], e)
			if _, err := bw.Write(line); err != nil {
				return st, fmt.Errorf("demo: write events: %w", err)
			}
			st.Events++
			st.ByTenant[e.tenant]++
			st.ByKind[e.tenant][e.kind]++
			st.ByDay[e.tenant][d]++
			if e.noise != "" {
				st.Noise[e.tenant][e.noise]++
			}
			if e.story {
				st.Story++
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("demo: write events: %w", err)
	}
	return st, nil
}

// tenantIndex is a tenant's position in Tenants: its random stream does not
// depend on which other tenants are generated.
func tenantIndex(t string) int { return slices.Index(Tenants, t) }

// dayCounts spreads Days × EventsPerDay events over the days, weekdays
// weighing 10 and weekends 3, exactly (largest remainder).
func dayCounts(o Options) []int {
	total := int64(o.Days) * int64(o.EventsPerDay)
	weights := make([]int64, o.Days)
	var sum int64
	for d := range weights {
		weights[d] = 10
		if isWeekend(o.Start.AddDate(0, 0, d)) {
			weights[d] = 3
		}
		sum += weights[d]
	}
	counts := make([]int, o.Days)
	rem := make([]int64, o.Days)
	var given int64
	for d, wt := range weights {
		counts[d] = int(total * wt / sum)
		rem[d] = total * wt % sum
		given += int64(counts[d])
	}
	order := make([]int, o.Days)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rem[b], rem[a]) })
	for i := 0; given < total; i++ {
		counts[order[i]]++
		given++
	}
	return counts
}

func isWeekend(t time.Time) bool {
	wd := t.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// field is one key and its string or integer value.
type field struct {
	key   string
	str   string
	num   int64
	isNum bool
}

// event is one event being built: its fields are batch.fields[lo:hi].
type event struct {
	ts     int64 // Unix nanoseconds
	tenant string
	kind   string
	noise  string // the NoisePattern it belongs to
	story  bool
	lo, hi int
}

// batch holds the events of one day (or the story) and their fields in one
// arena, so a day of a million events costs few allocations.
type batch struct {
	events []event
	fields []field
}

func (b *batch) reset() { b.events, b.fields = b.events[:0], b.fields[:0] }

// begin starts an event; s and n add its fields.
func (b *batch) begin(t time.Time, tenant, kind string) {
	b.events = append(b.events, event{ts: t.UnixNano(), tenant: tenant, kind: kind, lo: len(b.fields), hi: len(b.fields)})
}

// s adds a string field to the event begun last.
func (b *batch) s(k, v string) {
	b.fields = append(b.fields, field{key: k, str: v})
	b.events[len(b.events)-1].hi++
}

// n adds an integer field to the event begun last.
func (b *batch) n(k string, v int) {
	b.fields = append(b.fields, field{key: k, num: int64(v), isNum: true})
	b.events[len(b.events)-1].hi++
}

// last returns the event begun last.
func (b *batch) last() *event { return &b.events[len(b.events)-1] }

// copyRange appends the events of src in [from, to) to b.
func (b *batch) copyRange(src *batch, from, to int64) {
	for _, e := range src.events {
		if e.ts < from || e.ts >= to {
			continue
		}
		lo := len(b.fields)
		b.fields = append(b.fields, src.fields[e.lo:e.hi]...)
		e.lo, e.hi = lo, len(b.fields)
		b.events = append(b.events, e)
	}
}

// appendJSON appends e as one NDJSON line: "@timestamp" and "tenant" first,
// then its fields in the order they were added.
func (b *batch) appendJSON(buf []byte, e *event) []byte {
	buf = append(buf, `{"@timestamp":"`...)
	buf = time.Unix(0, e.ts).UTC().AppendFormat(buf, "2006-01-02T15:04:05.000Z07:00")
	buf = append(buf, `","tenant":`...)
	buf = appendString(buf, e.tenant)
	for _, f := range b.fields[e.lo:e.hi] {
		buf = append(buf, ',')
		buf = appendString(buf, f.key)
		buf = append(buf, ':')
		if f.isNum {
			buf = strconv.AppendInt(buf, f.num, 10)
		} else {
			buf = appendString(buf, f.str)
		}
	}
	return append(buf, "}\n"...)
}

// appendString appends s as a JSON string.
func appendString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, `\ufffd`...)
			} else {
				buf = append(buf, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			buf = append(buf, c)
		}
		i++
	}
	return append(buf, '"')
}
