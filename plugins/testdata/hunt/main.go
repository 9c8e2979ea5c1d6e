// Command hunt is a test fixture in the style of a threat hunt: it searches a
// tenant's logs for encoded PowerShell and opens one ticket per host, linking
// the events and observables. Running it again opens no duplicates: the
// ticket's external key is the host and the day, and a taken key
// (pdk.IsConflict) adds the new events to the existing ticket instead.
//
// Input: {"tenant", "from", "to"} (RFC 3339; the last 24 hours when unset).
// Output: {"events", "opened": [ids], "updated": [ids], "summary"}.
// Grant: logs.read, tickets.read and tickets.write on the tenant.
package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

type input struct {
	Tenant string    `json:"tenant"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
}

type output struct {
	Events  int      `json:"events"`
	Opened  []string `json:"opened"`
	Updated []string `json:"updated"`
	Summary string   `json:"summary"`
}

// maxEvents bounds the events one run reads.
const maxEvents = 5000

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		var in input
		if err := pdk.InputJSON(&in); err != nil {
			return err
		}
		if in.To.IsZero() {
			in.To = time.Now().UTC()
		}
		if in.From.IsZero() {
			in.From = in.To.Add(-24 * time.Hour)
		}
		out, err := hunt(in)
		if err != nil {
			return err
		}
		return pdk.OutputJSON(out)
	})
}

func hunt(in input) (*output, error) {
	byHost := map[string][]pdk.Event{}
	req := pdk.FieldSearchRequest{
		Tenant: in.Tenant,
		Fields: []pdk.Condition{
			pdk.Contains("process.name", "powershell"),
			pdk.Contains("process.command_line", "-enc"),
		},
		From: in.From, To: in.To, Limit: pdk.MaxLogLimit, ApplyFilters: true,
	}
	n := 0
	err := pdk.Logs.SearchFieldsAll(req, maxEvents, func(e pdk.Event) error {
		n++
		host := e.String("host.name")
		byHost[host] = append(byHost[host], e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search logs: %w", err)
	}
	out := &output{Events: n, Opened: []string{}, Updated: []string{}}
	hosts := make([]string, 0, len(byHost))
	for h := range byHost {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, host := range hosts {
		events := byHost[host]
		var ids []string
		obs := []pdk.Observable{{Type: pdk.ObservableHost, Value: host}}
		for _, e := range events {
			ids = append(ids, e.ID())
			if u := e.String("user.name"); u != "" && !slices.Contains(obs, pdk.Observable{Type: pdk.ObservableUser, Value: u}) {
				obs = append(obs, pdk.Observable{Type: pdk.ObservableUser, Value: u})
			}
		}
		key := "hunt:enc-powershell:" + host + ":" + in.To.UTC().Format(time.DateOnly)
		t, err := pdk.Tickets.Create(pdk.Ticket{
			Tenant:      in.Tenant,
			Title:       "Encoded PowerShell on " + host,
			Description: fmt.Sprintf("%d process starts with an encoded command line between %s and %s.", len(events), in.From.Format(time.RFC3339), in.To.Format(time.RFC3339)),
			Severity:    pdk.SeverityHigh,
			ExternalKey: key,
			Events:      ids,
			Observables: obs,
		})
		switch {
		case err == nil:
			out.Opened = append(out.Opened, t.ID)
		case pdk.IsConflict(err):
			list, err := pdk.Tickets.Search(pdk.TicketQuery{Tenant: in.Tenant, ExternalKey: key, Limit: 1})
			if err != nil {
				return nil, fmt.Errorf("find ticket %s: %w", key, err)
			}
			if len(list.Tickets) == 0 {
				return nil, fmt.Errorf("ticket %s: conflict, but no ticket has the key", key)
			}
			t, err := pdk.Tickets.Update(in.Tenant, list.Tickets[0].ID, pdk.TicketUpdate{AddEvents: ids, AddObservables: obs})
			if err != nil {
				return nil, fmt.Errorf("update ticket %s: %w", list.Tickets[0].ID, err)
			}
			out.Updated = append(out.Updated, t.ID)
		default:
			return nil, fmt.Errorf("open ticket for %s: %w", host, err)
		}
	}
	out.Summary = summary(in, out, hosts)
	return out, nil
}

func summary(in input, out *output, hosts []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Encoded PowerShell hunt (%s)\n\n", in.Tenant)
	if len(hosts) == 0 {
		b.WriteString("No encoded PowerShell found.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "%d events on %d hosts: %s. Tickets opened: %d, updated: %d.\n",
		out.Events, len(hosts), strings.Join(hosts, ", "), len(out.Opened), len(out.Updated))
	return b.String()
}

func main() {}
