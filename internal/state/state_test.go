package state_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/state"
)

func TestLookupAsset(t *testing.T) {
	named := &lhk.Asset{Name: "ws01"}
	onIP := &lhk.Asset{Name: "ws02"}
	broken := errors.New("broken")
	for _, tc := range []struct {
		name, nameOrIP string
		byName, byIP   *lhk.Asset
		nameErr        error
		want           *lhk.Asset
		wantCode       string // of the error; "" for none
		wantErr        error
		wantIPAsked    string // what byIP was asked; "" when it must not be
	}{
		{name: "OKByName", nameOrIP: " WS01 ", byName: named, want: named},
		{name: "OKByNameBeforeIP", nameOrIP: "10.0.0.5", byName: named, byIP: onIP, want: named},
		{name: "OKByIP", nameOrIP: "::ffff:10.0.0.5", byIP: onIP, want: onIP, wantIPAsked: "10.0.0.5"},
		{name: "ErrNotFound", nameOrIP: "ws09", wantCode: lhk.ENOTFOUND},
		{name: "ErrNotFoundByIP", nameOrIP: "10.0.0.9", wantCode: lhk.ENOTFOUND, wantIPAsked: "10.0.0.9"},
		{name: "ErrStore", nameOrIP: "10.0.0.5", byIP: onIP, nameErr: broken, wantErr: broken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var askedName, askedIP string
			a, err := state.LookupAsset("acme", tc.nameOrIP,
				func(key string) (*lhk.Asset, error) { askedName = key; return tc.byName, tc.nameErr },
				func(ip string) (*lhk.Asset, error) { askedIP = ip; return tc.byIP, nil })
			if askedName != state.AssetKey(tc.nameOrIP) {
				t.Errorf("byName asked %q, want %q", askedName, state.AssetKey(tc.nameOrIP))
			}
			if askedIP != tc.wantIPAsked {
				t.Errorf("byIP asked %q, want %q", askedIP, tc.wantIPAsked)
			}
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			case tc.wantCode != "" && lhk.ErrorCode(err) != tc.wantCode:
				t.Fatalf("err %v, want %s", err, tc.wantCode)
			case tc.wantErr == nil && tc.wantCode == "" && (err != nil || a != tc.want):
				t.Fatalf("LookupAsset = %v, %v; want %v", a, err, tc.want)
			}
		})
	}
}

func TestTicketEdit(t *testing.T) {
	ctx := lhk.NewContextWithActor(context.Background(), "alice")
	created := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	now := created.Add(time.Hour)
	ticket := func() *lhk.Ticket {
		tk, err := state.NewTicket(ctx, &lhk.Ticket{Tenant: "acme", Title: "beacon"}, created)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}

	t.Run("OKUpdate", func(t *testing.T) {
		tk := ticket()
		status := lhk.TicketInProgress
		upd := lhk.TicketUpdate{Status: &status, AddObservables: []lhk.Observable{{Type: lhk.ObservableIP, Value: "::ffff:10.0.0.5"}}}
		if err := state.UpdateTicket(upd).Apply(tk, now); err != nil {
			t.Fatal(err)
		}
		if tk.Status != status || len(tk.Observables) != 1 || tk.Observables[0].Value != "10.0.0.5" || !tk.UpdatedAt.Equal(now) {
			t.Fatalf("updated ticket %+v", tk)
		}
	})
	t.Run("OKComment", func(t *testing.T) {
		tk := ticket()
		if err := state.CommentTicket(ctx, lhk.Comment{Body: "seen on ws01", At: created}).Apply(tk, now); err != nil {
			t.Fatal(err)
		}
		if c := tk.Comments[0]; c.Author != "alice" || !c.At.Equal(now) || !tk.UpdatedAt.Equal(now) {
			t.Fatalf("comment %+v, updated %v: want alice's at %v", c, tk.UpdatedAt, now)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		tk := ticket()
		bad := "urgent"
		e := state.UpdateTicket(lhk.TicketUpdate{Severity: &bad})
		err := e.Apply(tk, now)
		if lhk.ErrorCode(err) != lhk.EINVALID || !tk.UpdatedAt.Equal(created) {
			t.Fatalf("Apply = %v, updated %v: want EINVALID and no new UpdatedAt", err, tk.UpdatedAt)
		}
		if got := e.Wrap(tk.ID, err).Error(); !strings.HasPrefix(got, "update ticket") {
			t.Fatalf("Wrap = %q, want it to say update ticket", got)
		}
	})
}

func TestTicketRow(t *testing.T) {
	tk := &lhk.Ticket{ID: "T-1", Title: "Beacon", Events: []string{"e1"},
		Observables: []lhk.Observable{{Type: lhk.ObservableDomain, Value: "Evil.Example"}},
		Comments:    []lhk.Comment{{Author: "bob", Body: "Seen", At: time.Date(2026, 11, 1, 9, 0, 0, 0, time.FixedZone("x", 3600))}}}
	r, err := state.NewTicketRow(tk)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.ObservableKeys) != 1 || r.ObservableKeys[0] != "evil.example" || r.Search != "beacon\n\nseen" {
		t.Fatalf("row %+v", r)
	}
	var back lhk.Ticket
	if err := state.ReadTicketLists(&back, []byte(r.Events), []byte(r.Observables), []byte(r.Comments)); err != nil {
		t.Fatal(err)
	}
	if len(back.Events) != 1 || back.Observables[0] != tk.Observables[0] || back.Comments[0].At.Location() != time.UTC ||
		!back.Comments[0].At.Equal(tk.Comments[0].At) {
		t.Fatalf("read back %+v", back)
	}
	var empty lhk.Ticket
	if err := state.ReadTicketLists(&empty, []byte("null"), []byte("[]"), []byte("null")); err != nil {
		t.Fatal(err)
	}
	if empty.Events == nil || empty.Observables == nil || empty.Comments == nil {
		t.Fatalf("nil lists %+v", empty)
	}
}
