package invoke

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/host"
	"github.com/lhk-soc/lhk/internal/wasmtest"
	"github.com/lhk-soc/lhk/registry/sqlite"
)

var discardLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// memStore is an InvocationStore in memory that counts batches.
type memStore struct {
	mu      sync.Mutex
	m       map[string]*lhk.Invocation
	batches int
}

func (s *memStore) PutInvocations(_ context.Context, invs []*lhk.Invocation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*lhk.Invocation{}
	}
	for _, inv := range invs {
		s.m[inv.ID] = inv
	}
	s.batches++
	return nil
}

func (s *memStore) Invocation(_ context.Context, id string) (*lhk.Invocation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv, ok := s.m[id]; ok {
		return inv, nil
	}
	return nil, lhk.Errorf(lhk.ENOTFOUND, "invocation %q not found", id)
}

func (s *memStore) Invocations(_ context.Context, _ lhk.InvocationFilter) ([]*lhk.Invocation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*lhk.Invocation, 0, len(s.m))
	for _, inv := range s.m {
		out = append(out, inv)
	}
	return out, nil
}

func TestRecorder(t *testing.T) {
	t.Run("ReadableBeforeFlush", func(t *testing.T) {
		store := &memStore{}
		r := NewRecorder(store, discardLog, time.Hour, 1000)
		defer r.Close(context.Background())
		r.PutInvocations(context.Background(), []*lhk.Invocation{{ID: "a", Status: lhk.StatusRunning}})
		inv, err := r.Invocation(context.Background(), "a")
		if err != nil || inv.Status != lhk.StatusRunning {
			t.Fatalf("pending record = %v, %v", inv, err)
		}
		if _, err := store.Invocation(context.Background(), "a"); err == nil {
			t.Fatal("record reached the store before its batch")
		}
	})
	t.Run("LaterRecordWins", func(t *testing.T) {
		store := &memStore{}
		r := NewRecorder(store, discardLog, time.Hour, 1000)
		r.PutInvocations(context.Background(), []*lhk.Invocation{{ID: "a", Status: lhk.StatusRunning}})
		r.PutInvocations(context.Background(), []*lhk.Invocation{{ID: "a", Status: lhk.StatusOK}})
		if err := r.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if inv, _ := store.Invocation(context.Background(), "a"); inv == nil || inv.Status != lhk.StatusOK {
			t.Fatalf("stored = %v", inv)
		}
	})
	t.Run("CloseFlushesEverything", func(t *testing.T) {
		store := &memStore{}
		r := NewRecorder(store, discardLog, time.Hour, 64)
		for i := range 1000 {
			r.PutInvocations(context.Background(), []*lhk.Invocation{{ID: strconv.Itoa(i)}})
		}
		if err := r.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(store.m) != 1000 {
			t.Fatalf("%d records stored after close, want 1000", len(store.m))
		}
		if store.batches >= 1000 {
			t.Fatalf("%d batches for 1000 records: not batched", store.batches)
		}
	})
	t.Run("ListingFlushesFirst", func(t *testing.T) {
		store := &memStore{}
		r := NewRecorder(store, discardLog, time.Hour, 1000)
		defer r.Close(context.Background())
		r.PutInvocations(context.Background(), []*lhk.Invocation{{ID: "x"}})
		invs, err := r.Invocations(context.Background(), lhk.InvocationFilter{})
		if err != nil || len(invs) != 1 {
			t.Fatalf("listing = %v, %v", invs, err)
		}
	})
}

// fixture is a Service on a real runtime and registry with one plugin.
type fixture struct {
	svc *Service
	db  *sqlite.DB
	rec *Recorder
}

func newFixture(tb testing.TB, records func(db *sqlite.DB) lhk.InvocationStore, dir string) *fixture {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "lhk.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, lhk.TokenHash("t")); err != nil {
		tb.Fatal(err)
	}
	wasm := wasmtest.Build(tb, dir)
	if _, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "p"}, wasm, "alice"); err != nil {
		tb.Fatal(err)
	}
	rt, err := host.New(ctx, host.Options{CacheDir: filepath.Join(tb.TempDir(), "cache"), Logger: discardLog})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rt.Close(context.Background()) })
	f := &fixture{db: db}
	store := records(db)
	if r, ok := store.(*Recorder); ok {
		f.rec = r
		tb.Cleanup(func() { r.Close(context.Background()) })
	}
	f.svc = New(db, store, rt, discardLog, Options{HistoryOutputBytes: 16})
	tb.Cleanup(func() { f.svc.Close(context.Background()) })
	return f
}

func TestService(t *testing.T) {
	f := newFixture(t, func(db *sqlite.DB) lhk.InvocationStore {
		return NewRecorder(db, discardLog, 10*time.Millisecond, 64)
	}, "plugins/testdata/echo")
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		long := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
		inv, err := f.svc.Invoke(ctx, lhk.InvokeRequest{Plugin: "p", Input: long, Trigger: lhk.TriggerHTTP, Caller: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		if string(inv.Output) != string(long) || inv.Status != lhk.StatusOK || inv.Function != "run" || inv.Version != 1 {
			t.Fatalf("invocation = %+v", inv)
		}
		stored, err := f.rec.Invocation(ctx, inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !stored.OutputTruncated || len(stored.Output) != 16 {
			t.Fatalf("stored output %q truncated=%v, want 16 bytes, truncated", stored.Output, stored.OutputTruncated)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := f.svc.Invoke(ctx, lhk.InvokeRequest{Plugin: "nope"}); lhk.ErrorCode(err) != lhk.ENOTFOUND {
			t.Fatalf("unknown plugin: %v", err)
		}
		if _, err := f.svc.Invoke(ctx, lhk.InvokeRequest{Plugin: "p", Version: 7}); lhk.ErrorCode(err) != lhk.ENOTFOUND {
			t.Fatalf("unknown version: %v", err)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		big := make([]byte, lhk.DefaultLimits.MaxInputBytes+1)
		if _, err := f.svc.Invoke(ctx, lhk.InvokeRequest{Plugin: "p", Input: big}); lhk.ErrorCode(err) != lhk.ETOOLARGE {
			t.Fatalf("large input: %v", err)
		}
	})
	t.Run("Skip", func(t *testing.T) {
		inv, err := f.svc.Skip(ctx, lhk.InvokeRequest{Plugin: "p", Trigger: lhk.TriggerCron, Caller: "alice"}, "previous run still going")
		if err != nil || inv.Status != lhk.StatusSkipped || inv.Error == "" {
			t.Fatalf("skip = %+v, %v", inv, err)
		}
	})
	t.Run("StartThenClose", func(t *testing.T) {
		inv, err := f.svc.Start(ctx, lhk.InvokeRequest{Plugin: "p", Input: []byte("bg"), Caller: "alice"})
		if err != nil || inv.Status != lhk.StatusRunning {
			t.Fatalf("start = %+v, %v", inv, err)
		}
		if err := f.svc.Close(ctx); err != nil {
			t.Fatal(err)
		}
		done, err := f.rec.Invocation(ctx, inv.ID)
		if err != nil || done.Status != lhk.StatusOK || string(done.Output) != "bg" {
			t.Fatalf("after close = %+v, %v", done, err)
		}
		if _, err := f.svc.Invoke(ctx, lhk.InvokeRequest{Plugin: "p"}); lhk.ErrorCode(err) != lhk.EUNAVAILABLE {
			t.Fatalf("invoke after close: %v", err)
		}
	})
}

// discardStore drops every record: the baseline for the cost of recording.
type discardStore struct{ memStore }

func (*discardStore) PutInvocations(context.Context, []*lhk.Invocation) error { return nil }

// BenchmarkRecording measures what writing the invocation record adds to a
// fast invocation (the noop plugin): no record at all (baseline), through the
// batching Recorder, and one SQLite transaction per invocation.
func BenchmarkRecording(b *testing.B) {
	cases := []struct {
		name  string
		store func(db *sqlite.DB) lhk.InvocationStore
	}{
		{"no-record", func(*sqlite.DB) lhk.InvocationStore { return &discardStore{} }},
		{"recorder", func(db *sqlite.DB) lhk.InvocationStore { return NewRecorder(db, discardLog, 50*time.Millisecond, 256) }},
		{"direct-sqlite", func(db *sqlite.DB) lhk.InvocationStore { return db }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := newFixture(b, c.store, "plugins/testdata/noop")
			ctx := context.Background()
			req := lhk.InvokeRequest{Plugin: "p", Trigger: lhk.TriggerHTTP, Caller: "alice"}
			if _, err := f.svc.Invoke(ctx, req); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var caller time.Duration // time spent inside Invoke: what a caller waits
			for range b.N {
				start := time.Now()
				if _, err := f.svc.Invoke(ctx, req); err != nil {
					b.Fatal(err)
				}
				caller += time.Since(start)
			}
			b.ReportMetric(float64(caller.Nanoseconds())/float64(b.N), "caller-ns/op")
			if f.rec != nil {
				// The batch writes belong to the measured work.
				if err := f.rec.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
