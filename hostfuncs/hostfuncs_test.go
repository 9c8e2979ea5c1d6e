package hostfuncs

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk"
)

// TestDocs fails when docs/hostfuncs.md differs from the catalog. Run with
// LHK_UPDATE_DOCS=1 to rewrite it.
func TestDocs(t *testing.T) {
	want := Markdown(Catalog(Systems{}))
	const path = "../docs/hostfuncs.md"
	if os.Getenv("LHK_UPDATE_DOCS") != "" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (generate it with LHK_UPDATE_DOCS=1)", path, err)
	}
	if string(got) != want {
		t.Fatalf("%s is out of date with the catalog: run LHK_UPDATE_DOCS=1 go test ./hostfuncs/ -run TestDocs", path)
	}
	for _, o := range Catalog(Systems{}) {
		if !strings.Contains(want, "### lhk."+o.Import()) || o.Doc == "" {
			t.Errorf("%s is undocumented", o.Import())
		}
	}
}

func TestCatalog(t *testing.T) {
	ops := Catalog(Systems{})
	caps := map[string]bool{}
	for _, o := range ops {
		caps[o.Capability] = true
		f := o.Function()
		if f.Handle == nil || f.Name != o.System+"_"+o.Name {
			t.Errorf("bad function for %s: %+v", o.Import(), f)
		}
	}
	// Every capability except http (Extism's own outbound HTTP) guards something.
	for _, c := range lhk.Capabilities {
		if c != lhk.CapHTTP && !caps[c] {
			t.Errorf("capability %s guards no operation", c)
		}
	}
}

// TestTenantChecks: a tenant outside the grant never reaches a backend, for
// every tenant-scoped operation.
func TestTenantChecks(t *testing.T) {
	call := &lhk.HostCall{Plugin: "p", Caller: "alice", Grant: lhk.Grant{Capabilities: lhk.Capabilities, Tenants: []string{"acme"}}}
	for _, o := range Catalog(Systems{}) { // no backends: reaching one would answer unavailable
		if !o.Tenanted {
			continue
		}
		t.Run(o.Import(), func(t *testing.T) {
			for tenant, code := range map[string]string{"globex": lhk.EFORBIDDEN, "": lhk.EINVALID, "*": lhk.EINVALID} {
				_, err := o.handle(context.Background(), call, []byte(`{"tenant":"`+tenant+`"}`))
				if lhk.ErrorCode(err) != code {
					t.Errorf("tenant %q: %v, want %s", tenant, err, code)
				}
				if code == lhk.EFORBIDDEN && !strings.Contains(lhk.ErrorMessage(err), "globex") {
					t.Errorf("message %q should name the tenant", lhk.ErrorMessage(err))
				}
			}
			_, err := o.handle(context.Background(), call, []byte(`{"tenant":"acme"}`))
			if lhk.ErrorCode(err) != lhk.EUNAVAILABLE && lhk.ErrorCode(err) != lhk.EINVALID {
				t.Errorf("granted tenant without a backend: %v", err)
			}
		})
	}
}

func TestHostileRequests(t *testing.T) {
	call := &lhk.HostCall{Plugin: "p", Caller: "alice", Grant: lhk.Grant{Capabilities: lhk.Capabilities, Tenants: []string{"*"}}}
	for _, o := range Catalog(Systems{}) {
		for name, req := range map[string]string{
			"malformed":     `{"tenant":`,
			"unknown field": `{"tenant":"acme","tennant":"globex"}`,
			"two values":    `{} {}`,
			"wrong type":    `{"tenant":42}`,
			"array":         `[1,2,3]`,
		} {
			_, err := o.handle(context.Background(), call, []byte(req))
			if lhk.ErrorCode(err) != lhk.EINVALID {
				t.Errorf("%s, %s: %v, want invalid", o.Import(), name, err)
			}
		}
	}
}
