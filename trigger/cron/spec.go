package cron

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // timezones must not depend on the host's zoneinfo (distroless images have none)

	rcron "github.com/robfig/cron/v3"

	"github.com/lhk-soc/lhk"
)

// MaxNext is the most run times Next returns, whatever n asks for.
const MaxNext = 100

// maxSpecLen bounds the spec handed to the parser.
const maxSpecLen = 256

// parser accepts the 5-field standard spec and descriptors (@hourly, @every 5m).
// It is rcron.ParseStandard's parser, spelled out so the accepted syntax is
// visible here.
var parser = rcron.NewParser(rcron.Minute | rcron.Hour | rcron.Dom | rcron.Month | rcron.Dow | rcron.Descriptor)

// compiled is a parsed schedule: robfig's schedule with its timezone.
type compiled struct {
	sched rcron.Schedule
	loc   *time.Location
}

// compile parses s.Cron in s.Timezone. Every failure is EINVALID naming the
// spec or the timezone, with the parser's own message.
func compile(s lhk.Schedule) (*compiled, error) {
	spec := strings.TrimSpace(s.Cron)
	switch {
	case spec == "":
		return nil, lhk.Errorf(lhk.EINVALID, "invalid cron spec %q: empty spec", s.Cron)
	case len(spec) > maxSpecLen:
		return nil, lhk.Errorf(lhk.EINVALID, "invalid cron spec: longer than %d characters", maxSpecLen)
	case strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ="):
		return nil, lhk.Errorf(lhk.EINVALID, "invalid cron spec %q: set the timezone in the timezone field, not in the spec", s.Cron)
	}
	loc, err := location(s.Timezone)
	if err != nil {
		return nil, err
	}
	sched, err := parse(spec)
	if err != nil {
		return nil, lhk.Errorf(lhk.EINVALID, "invalid cron spec %q: %v", s.Cron, err)
	}
	switch t := sched.(type) {
	case *rcron.SpecSchedule:
		// The same as a CRON_TZ= prefix: the parser would set exactly this field.
		t.Location = loc
		if t.Next(time.Now()).IsZero() {
			return nil, lhk.Errorf(lhk.EINVALID, "invalid cron spec %q: never fires", s.Cron)
		}
	case rcron.ConstantDelaySchedule:
		// robfig rounds anything under a second (even negative) up to one
		// second; "@every -1s" is a mistake, not a request for every second.
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(spec, "@every")))
		if err != nil || d < time.Second {
			return nil, lhk.Errorf(lhk.EINVALID, "invalid cron spec %q: @every needs an interval of at least 1s", s.Cron)
		}
		sched = alignedEvery{t.Delay}
	}
	return &compiled{sched: sched, loc: loc}, nil
}

// parse runs the parser, turning a panic inside it into an error: the spec
// comes from outside and the daemon must not crash on it.
func parse(spec string) (sched rcron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("unparsable: %v", r)
		}
	}()
	return parser.Parse(spec)
}

// alignedEvery is @every aligned to the clock: its runs fall on whole multiples of
// the interval (every 5m at :00, :05, :10…), not counted from whenever a
// process loaded the schedule. So every replica computes the same run times,
// which is what lets them agree on who runs each tick, and the preview shows
// the times the schedule will really keep.
type alignedEvery struct{ d time.Duration }

// Next implements rcron.Schedule.
func (e alignedEvery) Next(t time.Time) time.Time {
	return t.Truncate(e.d).Add(e.d)
}

// location loads an IANA timezone; "" is UTC.
func location(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	if tz == "Local" {
		// time.LoadLocation accepts it, but it means whatever the host is set to.
		return nil, lhk.Errorf(lhk.EINVALID, "invalid timezone %q: use an IANA name such as \"Europe/Paris\" or \"UTC\"", tz)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, lhk.Errorf(lhk.EINVALID, "invalid timezone %q: %v", tz, err)
	}
	return loc, nil
}

// next returns up to n run times after from, in the schedule's timezone.
func (c *compiled) next(from time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	t := from
	for range n {
		t = c.sched.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t.In(c.loc))
	}
	return out
}

// Validate checks a schedule's spec and timezone. It returns EINVALID with the
// parser's message naming the spec (or naming the timezone) when either is
// wrong, when the spec carries its own CRON_TZ=/TZ= prefix, when an @every
// interval is under one second, and when a spec can never fire (30 February).
func (s *Scheduler) Validate(sc lhk.Schedule) error {
	_, err := compile(sc)
	return err
}

// Next returns the next n run times strictly after from, in the schedule's
// timezone, computed by robfig/cron exactly as the scheduler will (DST gaps and
// repeats included). n is capped at MaxNext; n < 1 is EINVALID. Fewer times
// come back when the spec has no more runs in the next five years. @every runs
// fall on whole multiples of the interval.
func (s *Scheduler) Next(sc lhk.Schedule, from time.Time, n int) ([]time.Time, error) {
	if n < 1 {
		return nil, lhk.Errorf(lhk.EINVALID, "n must be at least 1, got %d", n)
	}
	c, err := compile(sc)
	if err != nil {
		return nil, err
	}
	return c.next(from, min(n, MaxNext)), nil
}
