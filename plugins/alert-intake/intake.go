package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// Config holds the plugin's configuration.
type Config struct {
	TriagePlugin  string // started for each new ticket; "" starts nothing
	DefaultTenant string // the tenant of alerts without one
}

// ParseConfig reads the configuration through get (pdk.Config in the plugin).
func ParseConfig(get func(string) (string, bool)) Config {
	c := Config{TriagePlugin: "endpoint-triage"}
	if v, ok := get("triage_plugin"); ok {
		c.TriagePlugin = strings.TrimSpace(v)
		if strings.EqualFold(c.TriagePlugin, "none") {
			c.TriagePlugin = ""
		}
	}
	if v, ok := get("default_tenant"); ok {
		c.DefaultTenant = strings.TrimSpace(v)
	}
	return c
}

// Output is the plugin's result.
type Output struct {
	Ticket           string `json:"ticket"`
	Tenant           string `json:"tenant"`
	Created          bool   `json:"created"`
	Duplicate        bool   `json:"duplicate"`
	TriageInvocation string `json:"triage_invocation"`
	TriageError      string `json:"triage_error,omitempty"`
	Summary          string `json:"summary"`
}

// Systems is what the intake needs from the daemon; the plugin passes the
// PDK's systems, tests a fake.
type Systems interface {
	CreateTicket(t pdk.Ticket) (*pdk.Ticket, error)
	SearchTickets(q pdk.TicketQuery) (*pdk.TicketList, error)
	UpdateTicket(tenant, id string, upd pdk.TicketUpdate) (*pdk.Ticket, error)
	CommentTicket(tenant, id, body string) (*pdk.Ticket, error)
	StartPlugin(plugin, function, input string) (string, error)
	Logf(level pdk.Level, format string, args ...any)
}

// openStatuses are the statuses of tickets an alert without an id may join.
var openStatuses = []string{pdk.TicketOpen, pdk.TicketInProgress}

// Intake opens or updates the ticket of an alert and starts the triage of a
// new one. now stamps the comment on a repeated alert.
func Intake(sys Systems, a Alert, cfg Config, now time.Time) (*Output, error) {
	if a.Tenant == "" {
		a.Tenant = cfg.DefaultTenant
	}
	switch {
	case a.Tenant == "":
		return nil, errors.New(`the alert has no tenant: set "tenant" (or customer, org, organization), or the plugin's config default_tenant`)
	case a.Host == "":
		return nil, errors.New(`the alert has no host: set "host" (or hostname, computer, host.name)`)
	}
	out := &Output{Tenant: a.Tenant}
	existing, err := findOpen(sys, a)
	if err != nil {
		return nil, err
	}
	if existing == nil {
		t, err := sys.CreateTicket(pdk.Ticket{Tenant: a.Tenant, Title: a.Title(), Description: a.Description(),
			Severity: a.Severity, ExternalKey: a.ID, Observables: a.Observables()})
		switch {
		case err == nil:
			out.Ticket, out.Created = t.ID, true
		case pdk.IsConflict(err) && a.ID != "":
			// Delivered before: the ticket with this external key exists.
			existing, err = byExternalKey(sys, a)
			if err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("open a ticket for alert %q in %s: %w", a.ID, a.Tenant, err)
		}
	}
	if existing != nil {
		out.Ticket, out.Duplicate = existing.ID, true
		// The report plugin counts repeats by these opening words.
		body := fmt.Sprintf("The SIEM raised this alert again (%s) at %s.", a.Title(), now.UTC().Format(time.RFC3339))
		if !a.Time.IsZero() {
			body += fmt.Sprintf(" Alert time: %s.", a.Time.UTC().Format(time.RFC3339))
		}
		if _, err := sys.CommentTicket(a.Tenant, existing.ID, body); err != nil {
			return nil, fmt.Errorf("comment the repeated alert on ticket %s: %w", existing.ID, err)
		}
		if obs := newObservables(existing, a.Observables()); len(obs) > 0 {
			if _, err := sys.UpdateTicket(a.Tenant, existing.ID, pdk.TicketUpdate{AddObservables: obs}); err != nil {
				return nil, fmt.Errorf("add observables to ticket %s: %w", existing.ID, err)
			}
		}
	}
	if out.Created && cfg.TriagePlugin != "" {
		in, _ := json.Marshal(map[string]string{"ticket": out.Ticket, "tenant": a.Tenant})
		id, err := sys.StartPlugin(cfg.TriagePlugin, "", string(in))
		if err != nil {
			out.TriageError = fmt.Sprintf("start %s: %v", cfg.TriagePlugin, err)
			sys.Logf(pdk.LevelWarn, "ticket %s: %s", out.Ticket, out.TriageError)
		} else {
			out.TriageInvocation = id
		}
	}
	out.Summary = summary(a, out, cfg)
	return out, nil
}

// findOpen returns the open ticket an alert without an id joins: one of the
// same title (rule and host) with the host as an observable. Alerts with an
// id are de-duplicated by external key when the ticket is created.
func findOpen(sys Systems, a Alert) (*pdk.Ticket, error) {
	if a.ID != "" {
		return nil, nil
	}
	title := a.Title()
	for _, st := range openStatuses {
		l, err := sys.SearchTickets(pdk.TicketQuery{Tenant: a.Tenant, Status: st, Observable: a.Host, Limit: 100})
		if err != nil {
			return nil, fmt.Errorf("look for an open ticket of %q in %s: %w", title, a.Tenant, err)
		}
		for _, t := range l.Tickets {
			if strings.EqualFold(t.Title, title) {
				return t, nil
			}
		}
	}
	return nil, nil
}

// byExternalKey finds the ticket of an alert id.
func byExternalKey(sys Systems, a Alert) (*pdk.Ticket, error) {
	l, err := sys.SearchTickets(pdk.TicketQuery{Tenant: a.Tenant, ExternalKey: a.ID, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("find the ticket of alert %q in %s: %w", a.ID, a.Tenant, err)
	}
	if len(l.Tickets) == 0 {
		return nil, fmt.Errorf("alert %q in %s: the external key is taken but no ticket has it", a.ID, a.Tenant)
	}
	return l.Tickets[0], nil
}

// newObservables returns those of obs the ticket lacks.
func newObservables(t *pdk.Ticket, obs []pdk.Observable) []pdk.Observable {
	var out []pdk.Observable
	for _, o := range obs {
		found := false
		for _, h := range t.Observables {
			if h.Type == o.Type && strings.EqualFold(h.Value, o.Value) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, o)
		}
	}
	return out
}

// summary renders the outcome in Markdown.
func summary(a Alert, o *Output, cfg Config) string {
	var b strings.Builder
	switch {
	case o.Created:
		fmt.Fprintf(&b, "Opened ticket `%s` in %s: %s (%s).", o.Ticket, o.Tenant, a.Title(), a.Severity)
	default:
		fmt.Fprintf(&b, "Alert already tracked by ticket `%s` in %s: %s; commented on it.", o.Ticket, o.Tenant, a.Title())
	}
	switch {
	case o.TriageInvocation != "":
		fmt.Fprintf(&b, " Started %s (invocation `%s`).", cfg.TriagePlugin, o.TriageInvocation)
	case o.TriageError != "":
		fmt.Fprintf(&b, " Could not start triage: %s.", o.TriageError)
	}
	return b.String()
}
