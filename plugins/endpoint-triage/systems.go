package main

import "github.com/lhk-soc/lhk/pdk"

// pdkSystems is Systems on the daemon's host functions.
type pdkSystems struct{}

var _ Systems = pdkSystems{}

func (pdkSystems) Grant() (*pdk.Grant, error) { return pdk.CurrentGrant() }

func (pdkSystems) GetTicket(tenant, id string) (*pdk.Ticket, error) {
	return pdk.Tickets.Get(tenant, id)
}

func (pdkSystems) CommentTicket(tenant, id, body string) (*pdk.Ticket, error) {
	return pdk.Tickets.Comment(tenant, id, body)
}

func (pdkSystems) UpdateTicket(tenant, id string, upd pdk.TicketUpdate) (*pdk.Ticket, error) {
	return pdk.Tickets.Update(tenant, id, upd)
}

func (pdkSystems) LookupAsset(tenant, host string) (*pdk.Asset, error) {
	return pdk.Assets.Lookup(tenant, host)
}

func (pdkSystems) Collect(req pdk.CollectRequest) (*pdk.Collection, error) {
	return pdk.Endpoints.Collect(req)
}

func (pdkSystems) Search(req pdk.SearchRequest) (*pdk.SearchResult, error) {
	return pdk.Logs.Search(req)
}

func (pdkSystems) SearchFields(req pdk.FieldSearchRequest) (*pdk.SearchResult, error) {
	return pdk.Logs.SearchFields(req)
}

func (pdkSystems) Top(req pdk.TopRequest) (*pdk.TopResult, error) { return pdk.Logs.Top(req) }

func (pdkSystems) Count(req pdk.CountRequest) (*pdk.CountResult, error) { return pdk.Logs.Count(req) }

func (pdkSystems) Logf(level pdk.Level, format string, args ...any) { pdk.Logf(level, format, args...) }
