// Command probe is a test fixture that calls one lhk host function through
// the PDK's typed API. Its input is
//
//	{"fn": "<import name>", "request": {…}}
//
// where fn is a host function of module "lhk" (logs_search, tickets_get,
// kv_set, grant_get…) or "http" for an outbound request
// ({"method", "url", "header", "body"}). The request is decoded into the
// typed method's arguments, the method is called, and the output is
// {"data": <result>} or {"error": {"code", "message"}}: the invocation
// succeeds either way, so tests can read the code of a denied call. An
// unknown fn or a request that does not decode fails the invocation.
//
// Because it calls every typed method, the module imports every host
// function and the daemon reports every capability as required.
package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// tenantID is the request of the host functions naming one thing of a
// tenant.
type tenantID struct {
	Tenant string `json:"tenant"`
	ID     string `json:"id"`
}

// calls maps each fn to a call of the typed API with the raw request.
var calls = map[string]func(req json.RawMessage) (any, error){
	"logs_search": func(req json.RawMessage) (any, error) {
		return with(req, pdk.Logs.Search)
	},
	"logs_search_fields": func(req json.RawMessage) (any, error) {
		return with(req, pdk.Logs.SearchFields)
	},
	"logs_top": func(req json.RawMessage) (any, error) {
		return with(req, pdk.Logs.Top)
	},
	"logs_count": func(req json.RawMessage) (any, error) {
		return with(req, pdk.Logs.Count)
	},
	"filters_list": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Tenant         string `json:"tenant"`
			IncludeExpired bool   `json:"include_expired"`
		}) (any, error) {
			fs, err := pdk.Filters.List(r.Tenant, r.IncludeExpired)
			return map[string]any{"filters": fs}, err
		})
	},
	"filters_stats": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Tenant string    `json:"tenant"`
			From   time.Time `json:"from"`
			To     time.Time `json:"to"`
		}) (any, error) {
			st, err := pdk.Filters.Stats(r.Tenant, r.From, r.To)
			return map[string]any{"stats": st}, err
		})
	},
	"filters_upsert": func(req json.RawMessage) (any, error) {
		return with(req, pdk.Filters.Upsert)
	},
	"filters_delete": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Tenant string `json:"tenant"`
			Name   string `json:"name"`
		}) (any, error) {
			return struct{}{}, pdk.Filters.Delete(r.Tenant, r.Name)
		})
	},
	"tickets_create": func(req json.RawMessage) (any, error) {
		return with(req, pdk.Tickets.Create)
	},
	"tickets_get": func(req json.RawMessage) (any, error) {
		return with(req, func(r tenantID) (*pdk.Ticket, error) { return pdk.Tickets.Get(r.Tenant, r.ID) })
	},
	"tickets_update": func(req json.RawMessage) (any, error) {
		return with(req, func(r pdk.TicketUpdateRequest) (*pdk.Ticket, error) {
			return pdk.Tickets.Update(r.Tenant, r.ID, r.TicketUpdate)
		})
	},
	"tickets_comment": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			tenantID
			Body string `json:"body"`
		}) (*pdk.Ticket, error) {
			return pdk.Tickets.Comment(r.Tenant, r.ID, r.Body)
		})
	},
	"tickets_search": func(req json.RawMessage) (any, error) {
		return with(req, pdk.Tickets.Search)
	},
	"assets_lookup": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Tenant string `json:"tenant"`
			Host   string `json:"host"`
		}) (*pdk.Asset, error) {
			return pdk.Assets.Lookup(r.Tenant, r.Host)
		})
	},
	"endpoints_collect": func(req json.RawMessage) (any, error) {
		return with(req, pdk.Endpoints.Collect)
	},
	"endpoints_isolate": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Tenant string `json:"tenant"`
			Host   string `json:"host"`
			Reason string `json:"reason"`
		}) (*pdk.ResponseAction, error) {
			return pdk.Endpoints.Isolate(r.Tenant, r.Host, r.Reason)
		})
	},
	"reports_publish": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Tenant   string `json:"tenant"`
			Title    string `json:"title"`
			Markdown string `json:"markdown"`
		}) (*pdk.Report, error) {
			return pdk.Reports.Publish(r.Tenant, r.Title, r.Markdown)
		})
	},
	"reports_list": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Tenant string `json:"tenant"`
			Limit  int    `json:"limit"`
			Cursor string `json:"cursor"`
		}) (*pdk.ReportList, error) {
			return pdk.Reports.List(r.Tenant, r.Limit, r.Cursor)
		})
	},
	"reports_get": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Tenant string `json:"tenant"`
			ID     string `json:"id"`
		}) (*pdk.Report, error) {
			return pdk.Reports.Get(r.Tenant, r.ID)
		})
	},
	"kv_get": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Key string `json:"key"`
		}) (any, error) {
			v, found, err := pdk.KV.Get(r.Key)
			return map[string]any{"key": r.Key, "value": v, "found": found}, err
		})
	},
	"kv_set": func(req json.RawMessage) (any, error) {
		return with(req, func(r pdk.KVEntry) (any, error) { return struct{}{}, pdk.KV.Set(r.Key, r.Value) })
	},
	"kv_delete": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Key string `json:"key"`
		}) (any, error) {
			return struct{}{}, pdk.KV.Delete(r.Key)
		})
	},
	"kv_list": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Prefix string `json:"prefix"`
			After  string `json:"after"`
			Limit  int    `json:"limit"`
		}) (any, error) {
			es, err := pdk.KV.List(r.Prefix, r.After, r.Limit)
			return map[string]any{"entries": es}, err
		})
	},
	"notify_send": func(req json.RawMessage) (any, error) {
		return with(req, func(n pdk.Notification) (any, error) { return struct{}{}, pdk.Notify.Send(n) })
	},
	"grant_get": func(json.RawMessage) (any, error) {
		return pdk.CurrentGrant()
	},
	"plugins_start": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Plugin   string `json:"plugin"`
			Function string `json:"function"`
			Input    string `json:"input"`
		}) (any, error) {
			id, err := pdk.Plugins.Start(r.Plugin, r.Function, r.Input)
			return map[string]any{"invocation": id}, err
		})
	},
	"http": func(req json.RawMessage) (any, error) {
		return with(req, func(r struct {
			Method string            `json:"method"`
			URL    string            `json:"url"`
			Header map[string]string `json:"header"`
			Body   string            `json:"body"`
		}) (any, error) {
			resp, err := pdk.HTTP.Do(pdk.HTTPRequest{Method: r.Method, URL: r.URL, Header: r.Header, Body: []byte(r.Body)})
			if err != nil {
				return nil, err
			}
			return map[string]any{"status": resp.Status, "header": resp.Header, "body": string(resp.Body)}, nil
		})
	},
}

// errDecode marks a request that does not decode: the probe's input is
// wrong, so the invocation fails.
type errDecode struct{ err error }

func (e errDecode) Error() string { return "probe: request: " + e.err.Error() }

// with decodes req into fn's argument (an empty request is {}) and calls fn.
func with[Req, Resp any](req json.RawMessage, fn func(Req) (Resp, error)) (any, error) {
	var r Req
	if len(req) == 0 {
		req = json.RawMessage("{}")
	}
	if err := json.Unmarshal(req, &r); err != nil {
		return nil, errDecode{err}
	}
	return fn(r)
}

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		var in struct {
			Fn      string          `json:"fn"`
			Request json.RawMessage `json:"request"`
		}
		if err := pdk.InputJSON(&in); err != nil {
			return err
		}
		call, ok := calls[in.Fn]
		if !ok {
			return fmt.Errorf("probe: unknown fn %q", in.Fn)
		}
		data, err := call(in.Request)
		if err != nil {
			if d, ok := err.(errDecode); ok {
				return d
			}
			return pdk.OutputJSON(map[string]any{"error": pdk.Error{Code: pdk.ErrorCode(err), Message: message(err)}})
		}
		return pdk.OutputJSON(map[string]any{"data": data})
	})
}

// message is the host's message of an *pdk.Error, or the error's text.
func message(err error) string {
	if e, ok := err.(*pdk.Error); ok {
		return e.Message
	}
	return err.Error()
}

func main() {}
