package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lhk-soc/lhk/internal/pgdb"
)

// TestFirstDelivery: of many handles racing to record one delivery, exactly
// one is first; the same signature for another plugin is another delivery;
// a record older than keep is pruned.
func TestFirstDelivery(t *testing.T) {
	url := pgdb.TestURL(t, "")
	ctx := context.Background()
	var dbs []*DB
	for range 3 {
		db, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	now := time.Now()
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := dbs[i%3].FirstDelivery(ctx, "alert-intake", "sha256=ab", now, 10*time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := firsts.Load(); n != 1 {
		t.Fatalf("%d callers were first for one delivery", n)
	}
	if ok, err := dbs[0].FirstDelivery(ctx, "other", "sha256=ab", now, 10*time.Minute); err != nil || !ok {
		t.Fatalf("same signature, other plugin: %v %v", ok, err)
	}
	// Eleven minutes later the old record is pruned: keep is ten.
	later := now.Add(11 * time.Minute)
	dbs[1].lastDeliveryPrune.Store(0)
	if ok, _ := dbs[1].FirstDelivery(ctx, "alert-intake", "sha256=cd", later, 10*time.Minute); !ok {
		t.Fatal("a new delivery was not first")
	}
	var left int
	if err := dbs[1].pool.QueryRow(ctx, "SELECT count(*) FROM webhook_deliveries WHERE signature = 'sha256=ab'").Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d old deliveries left after pruning (%v)", left, err)
	}
}
