// Package registrytest is the conformance suite every lhk.Registry must pass.
// A backend's tests call Run with a function that opens its store:
//
//	func TestRegistry(t *testing.T) {
//		registrytest.Run(t, func(tb testing.TB, key string) lhk.Registry {
//			db, err := sqlite.Open(context.Background(), filepath.Join(key, "lhk.db"))
//			if err != nil {
//				tb.Fatal(err)
//			}
//			return db
//		})
//	}
//
// The suite uses only the lhk interfaces, never a backend's internals, so the
// SQLite and PostgreSQL registries are held to the same behaviour.
package registrytest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/lhk-soc/lhk"
)

// Opener opens the store identified by key. The same key must open the same
// data again after the previous handle was closed; a key never seen before
// must open an empty store. The suite passes the path of a fresh temporary
// directory as key, which file-based stores can use as their directory and
// others may turn into a database or schema name. The suite closes every store
// it opens.
type Opener func(tb testing.TB, key string) lhk.Registry

// Run runs the whole suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	s := &suite{open: open}
	t.Run("Users", s.testUsers)
	t.Run("Versions", s.testVersions)
	t.Run("UpdatePlugin", s.testUpdatePlugin)
	t.Run("Plugins", s.testPlugins)
	t.Run("DeletePlugin", s.testDeletePlugin)
	t.Run("Grant", s.testGrant)
	t.Run("Schedule", s.testSchedule)
	t.Run("Invocations", s.testInvocations)
	t.Run("Audit", s.testAudit)
	t.Run("Sessions", s.testSessions)
	t.Run("Webhooks", s.testWebhooks)
	t.Run("Deliveries", s.testDeliveries)
	t.Run("Hammer", s.testHammer)
	t.Run("ConfigKeys", s.testConfigKeys)
	t.Run("Reopen", s.testReopen)
}

// suite holds the opener shared by every test.
type suite struct {
	open Opener
}

// fresh opens an empty store that is closed when t ends.
func (s *suite) fresh(t testing.TB) lhk.Registry {
	t.Helper()
	r, _ := s.openKey(t, t.TempDir())
	return r
}

// openKey opens the store for key and returns it with a function that closes
// it once; the close also runs when t ends.
func (s *suite) openKey(t testing.TB, key string) (lhk.Registry, func()) {
	t.Helper()
	r := s.open(t, key)
	if r == nil {
		t.Fatalf("open %q returned a nil registry", key)
	}
	var once sync.Once
	closeFn := func() {
		once.Do(func() {
			if err := r.Close(); err != nil {
				t.Errorf("close registry: %v", err)
			}
		})
	}
	t.Cleanup(closeFn)
	return r, closeFn
}

// as returns a context whose actor is name.
func as(name string) context.Context {
	return lhk.NewContextWithActor(context.Background(), name)
}

// wantCode fails t unless err carries the application error code want.
func wantCode(t testing.TB, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want code %q", want)
	}
	if got := lhk.ErrorCode(err); got != want {
		t.Fatalf("got error %v with code %q, want code %q", err, got, want)
	}
}

// ok fails t when err is not nil.
func ok(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// createUser adds a user with role and a token derived from its name and
// returns that token.
func createUser(t testing.TB, r lhk.Registry, name string, role lhk.Role) string {
	t.Helper()
	token := "lhk_test_" + name
	u := &lhk.User{Name: name, Role: role}
	if err := r.CreateUser(as("admin"), u, lhk.TokenHash(token)); err != nil {
		t.Fatalf("create user %q: %v", name, err)
	}
	return token
}

// wasmFor returns distinct fake module bytes for a plugin version. The
// registry stores modules as opaque bytes; it does not parse them.
func wasmFor(name string, n int) []byte {
	return []byte(fmt.Sprintf("\x00asm\x01\x00\x00\x00%s#%d", name, n))
}

// sha returns the hex SHA-256 of b.
func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// upload stores wasm as the next version of plugin name, as actor owner.
func upload(t testing.TB, r lhk.Registry, name, owner string, wasm []byte) (*lhk.Version, *lhk.Plugin) {
	t.Helper()
	v := &lhk.Version{Plugin: name}
	p, err := r.CreateVersion(as(owner), v, wasm, owner)
	if err != nil {
		t.Fatalf("create version of %q: %v", name, err)
	}
	return v, p
}

// getPlugin reads a plugin and fails t on error.
func getPlugin(t testing.TB, r lhk.Registry, name string) *lhk.Plugin {
	t.Helper()
	p, err := r.Plugin(context.Background(), name)
	if err != nil {
		t.Fatalf("get plugin %q: %v", name, err)
	}
	return p
}

// versionNumbers returns the numbers of p's versions in order.
func versionNumbers(p *lhk.Plugin) []int {
	var ns []int
	for _, v := range p.Versions {
		ns = append(ns, v.Number)
	}
	return ns
}

// sameStrings reports whether a and b hold the same strings in order; nil and
// empty are the same.
func sameStrings(a, b []string) bool { return slices.Equal(a, b) }
