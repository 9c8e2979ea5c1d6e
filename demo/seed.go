package demo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lhk-soc/lhk"
)

// WeekStart returns the first day of the demo week for today: the Monday,
// 00:00 UTC, of the last whole week (Monday to Sunday, UTC) before today.
// A report of "the previous week" in UTC run any day of the following week
// covers exactly that week.
func WeekStart(today time.Time) time.Time {
	t := today.UTC()
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	sinceMonday := (int(midnight.Weekday()) + 6) % 7
	return midnight.AddDate(0, 0, -sinceMonday-7)
}

// Names of the seeded filters that are not a noise pattern's.
const (
	// FilterExpired is the filter of each tenant whose expiry lies in the
	// demo week: past by the time the demo runs.
	FilterExpired = "pentest-scanner"
	// FilterStale is the filter of each tenant that matches no event.
	FilterStale = "retired-print-server"
)

// coveredNoise are the noise patterns the seeded filters suppress; the
// others are left for filter-upkeep to propose.
var coveredNoise = []string{NoiseBackupLogonFailures, NoiseMonitoringDNS}

// Filters returns the analysis filters the demo gives each tenant for data
// starting at start (a zero start is DefaultStart), owned by owner: one per
// covered noise pattern (its conditions, expiring 90 days after start), one
// that expired during the week (a penetration test's scanner) and one that
// matches nothing (a print server that is gone). The NetBIOS noise has no
// filter, so filter-upkeep has a suppression to propose.
func Filters(start time.Time, owner string) []lhk.Filter {
	start = dayOf(start)
	var out []lhk.Filter
	for _, t := range Tenants {
		p := profiles[t]
		later := start.AddDate(0, 0, 90)
		for _, n := range Noise {
			if n.Tenant != t || !slices.Contains(coveredNoise, n.Name) {
				continue
			}
			out = append(out, lhk.Filter{Tenant: t, Name: n.Name, Owner: owner, Reason: n.Description,
				Conditions: append([]lhk.Condition(nil), n.Conditions...), ExpiresAt: &later})
		}
		expired := start.AddDate(0, 0, 2).Add(18 * time.Hour)
		out = append(out,
			lhk.Filter{Tenant: t, Name: FilterExpired, Owner: owner, ExpiresAt: &expired,
				Reason:     "The agreed penetration test scans from " + p.scanner() + " until " + expired.Format(time.DateOnly) + "; its alerts are expected.",
				Conditions: []lhk.Condition{{Field: "source.ip", Op: lhk.OpEq, Value: p.scanner()}}},
			lhk.Filter{Tenant: t, Name: FilterStale, Owner: owner,
				Reason:     "Spooler errors of " + p.printServer() + ", which logs failed jobs as errors.",
				Conditions: []lhk.Condition{{Field: "host.name", Op: lhk.OpEq, Value: p.printServer()}}},
		)
	}
	return out
}

// scanner is the address of a tenant's penetration-test scanner, which the
// data never holds.
func (p *profile) scanner() string { return strings.TrimSuffix(p.broadcast, ".255.255") + ".0.250" }

// printServer is the name of a tenant's retired print server, which the data
// never holds.
func (p *profile) printServer() string { return strings.TrimSuffix(p.dc.name, "-DC-01") + "-PRN-01" }

// Tickets returns the tickets the demo gives each tenant for data starting
// at start (a zero start is DefaultStart), all opened during the week: in
// acme, the ticket alert-intake opens for the story's alert (StoryAlert) and
// a resolved lock-out of the backup account; in globex, a resolved phishing
// report and an open series of failed VPN logons.
func Tickets(start time.Time) []lhk.Ticket {
	start = dayOf(start)
	day := func(d, h, m int) time.Time {
		return start.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	acme, globex := profiles[TenantAcme], profiles[TenantGlobex]
	return []lhk.Ticket{
		StoryTicket(start),
		{Tenant: TenantAcme, Title: "Account " + acme.backupSvc + " locked out on " + acme.fs.name,
			Description: "The backup agent on " + acme.bk.name + " keeps failing to log on as " + acme.backupSvc +
				" (Security 4625). Its password was changed on the domain but not in the agent.",
			Status: lhk.TicketResolved, Severity: lhk.SeverityLow, Reporter: acme.users[2], Assignee: acme.users[2],
			Observables: []lhk.Observable{{Type: lhk.ObservableHost, Value: acme.bk.name}, {Type: lhk.ObservableUser, Value: acme.backupSvc}},
			CreatedAt:   day(1, 1, 40)},
		{Tenant: TenantGlobex, Title: "User-reported phishing: parcel delivery notice",
			Description: globex.users[0] + " forwarded a mail asking to pay customs fees for a parcel. " +
				"The link leads to a credential form; no one else clicked it.",
			Status: lhk.TicketResolved, Severity: lhk.SeverityLow, Reporter: globex.users[0], Assignee: globex.users[4],
			Observables: []lhk.Observable{{Type: lhk.ObservableUser, Value: globex.users[0]}, {Type: lhk.ObservableDomain, Value: "parcel-fees.example.org"}},
			CreatedAt:   day(2, 14, 5)},
		{Tenant: TenantGlobex, Title: "Repeated failed VPN logons for " + globex.users[1],
			Description: "Failed VPN logons for " + globex.users[1] + " from an address outside the usual home networks; the user says the phone app kept an old password.",
			Status:      lhk.TicketOpen, Severity: lhk.SeverityMedium, Reporter: globex.users[4],
			Observables: []lhk.Observable{{Type: lhk.ObservableUser, Value: globex.users[1]}},
			CreatedAt:   day(3, 8, 20)},
	}
}

// StoryTicket returns the ticket alert-intake opens for the story's alert
// (StoryAlert) with data starting at start: the rule on the host as title,
// the alert's id as external key, its indicators as observables, and a
// description whose "time:" line endpoint-triage reads.
func StoryTicket(start time.Time) lhk.Ticket {
	start = dayOf(start)
	at := StoryTime(start).Add(2*time.Minute + 31*time.Second)
	title := storyRule + " on " + Story.PatientZeroHost
	var b strings.Builder
	fmt.Fprintf(&b, "SIEM alert `%s`: %s\n\n", Story.AlertID, title)
	fmt.Fprintf(&b, "- time: %s\n- severity: high\n- host: %s\n- user: %s\n- source ip: %s\n",
		at.Format(time.RFC3339), Story.PatientZeroHost, Story.User, Story.PatientZeroIP)
	fmt.Fprintf(&b, "\nRaw alert:\n\n```\n%s\n```\n", StoryAlert(start))
	return lhk.Ticket{Tenant: Story.Tenant, Title: title, Description: b.String(),
		Status: lhk.TicketOpen, Severity: lhk.SeverityHigh, Reporter: "alert-intake", ExternalKey: Story.AlertID,
		Observables: []lhk.Observable{
			{Type: lhk.ObservableHost, Value: Story.PatientZeroHost},
			{Type: lhk.ObservableUser, Value: Story.User},
			{Type: lhk.ObservableIP, Value: Story.PatientZeroIP},
		},
		CreatedAt: at.Add(4 * time.Second)}
}

// storyRule is the SIEM rule of the story's alert.
const storyRule = "Office application spawned encoded PowerShell"

// IOCs are the story's known-bad indicators, as a threat feed would list
// them: its C2 address and domain.
func IOCs() []string { return []string{Story.C2IP, Story.C2Domain} }

// dayOf is start in UTC at midnight, DefaultStart when zero.
func dayOf(start time.Time) time.Time {
	if start.IsZero() {
		return DefaultStart
	}
	return start.UTC().Truncate(24 * time.Hour)
}
