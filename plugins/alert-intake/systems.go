package main

import "github.com/lhk-soc/lhk/pdk"

// pdkSystems is Systems on the daemon's host functions.
type pdkSystems struct{}

var _ Systems = pdkSystems{}

func (pdkSystems) CreateTicket(t pdk.Ticket) (*pdk.Ticket, error) { return pdk.Tickets.Create(t) }

func (pdkSystems) SearchTickets(q pdk.TicketQuery) (*pdk.TicketList, error) {
	return pdk.Tickets.Search(q)
}

func (pdkSystems) UpdateTicket(tenant, id string, upd pdk.TicketUpdate) (*pdk.Ticket, error) {
	return pdk.Tickets.Update(tenant, id, upd)
}

func (pdkSystems) CommentTicket(tenant, id, body string) (*pdk.Ticket, error) {
	return pdk.Tickets.Comment(tenant, id, body)
}

func (pdkSystems) StartPlugin(plugin, function, input string) (string, error) {
	return pdk.Plugins.Start(plugin, function, input)
}

func (pdkSystems) Logf(level pdk.Level, format string, args ...any) { pdk.Logf(level, format, args...) }
