package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// offline keeps the go command from the network: the PDK's own dependency
// must come from the module cache, which building lhkd has filled.
var offline = []string{"GOPROXY=off", "GOFLAGS=-mod=mod"}

func readGoMod(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNewBuild(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hello-cli")
	c := newCLI(t, append([]string{"LHK_SERVER=" + daemonURL, "LHK_TOKEN=" + adminToken}, offline...)...)
	c.dir = t.TempDir() // outside any lhk checkout
	pdk := filepath.Join(repoRoot, "pdk")
	r := c.ok("new", dir, "--pdk", pdk)
	if !strings.Contains(r.Stdout, "on local PDK "+pdk) {
		t.Errorf("new: %s", r.Stdout)
	}
	main, err := os.ReadFile(filepath.Join(dir, "main.go"))
	if err != nil || !strings.Contains(string(main), "//go:wasmexport run") {
		t.Fatalf("main.go: %v\n%s", err, main)
	}
	if mod := readGoMod(t, dir); !strings.Contains(mod, "replace github.com/lhk-soc/lhk/pdk => "+pdk+"\n") || !strings.Contains(mod, "github.com/extism/go-pdk") {
		t.Errorf("go.mod (replace by absolute path, tidied):\n%s", mod)
	}
	c.fails(exitUsage, "already exists", "new", dir)
	r = c.ok("build", dir)
	if _, err := os.Stat(filepath.Join(dir, "hello-cli.wasm")); err != nil || !strings.Contains(r.Stdout, "built ") {
		t.Fatalf("build: %v\n%s", err, r.Stdout)
	}
	if r.Stderr != "" {
		t.Errorf("build wrote to a standard error that is not a terminal: %q", r.Stderr)
	}
	c.ok("push", filepath.Join(dir, "hello-cli.wasm"))
	if r := c.ok("invoke", "hello-cli", "--data", `{"name":"world"}`); r.Stdout != `{"greeting":"hello world"}` {
		t.Errorf("scaffolded plugin says %q", r.Stdout)
	}
}

func TestNewPDKSources(t *testing.T) {
	pdk := filepath.Join(repoRoot, "pdk")
	t.Run("Checkout", func(t *testing.T) {
		// Run inside the checkout, the plugin created elsewhere: the PDK is found
		// from the working directory and named by its absolute path.
		c := newCLI(t, offline...)
		c.dir = filepath.Join(repoRoot, "cmd", "lhk")
		dir := filepath.Join(t.TempDir(), "found")
		var out struct {
			PDKFrom string `json:"pdk_from"`
			PDKDir  string `json:"pdk_dir"`
			Tidy    bool   `json:"tidy"`
		}
		decodeJSON(t, c.ok("new", dir, "-o", "json").Stdout, &out)
		if out.PDKFrom != "checkout" || out.PDKDir != pdk || !out.Tidy {
			t.Errorf("new -o json: %+v", out)
		}
		if mod := readGoMod(t, dir); !strings.Contains(mod, "=> "+pdk+"\n") {
			t.Errorf("go.mod:\n%s", mod)
		}
	})
	t.Run("InsideCheckout", func(t *testing.T) {
		// A plugin inside a checkout (a copy, found from NAME's directory) refers
		// to its pdk/ by a relative path.
		c := newCLI(t, offline...)
		c.dir = t.TempDir()
		checkout := filepath.Join(t.TempDir(), "lhk")
		copyDir(t, pdk, filepath.Join(checkout, "pdk"))
		dir := filepath.Join(checkout, "plugins", "inside")
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			t.Fatal(err)
		}
		c.ok("new", dir)
		if mod := readGoMod(t, dir); !strings.Contains(mod, "replace github.com/lhk-soc/lhk/pdk => ../../pdk\n") {
			t.Errorf("go.mod:\n%s", mod)
		}
	})
	t.Run("Env", func(t *testing.T) {
		c := newCLI(t, append([]string{"LHK_PDK=" + pdk}, offline...)...)
		c.dir = t.TempDir()
		dir := filepath.Join(c.dir, "fromenv")
		c.ok("new", dir)
		if mod := readGoMod(t, dir); !strings.Contains(mod, "=> "+pdk+"\n") {
			t.Errorf("go.mod:\n%s", mod)
		}
	})
	t.Run("Published", func(t *testing.T) {
		// Outside a checkout the go.mod requires the published module; offline
		// it cannot be fetched, and lhk says so and what to do.
		c := newCLI(t, offline...)
		c.dir = t.TempDir()
		dir := filepath.Join(c.dir, "published")
		r := c.run("", "new", dir, "--pdk-version", "v0.4.0")
		if r.Code != exitFailed || !strings.Contains(r.Stderr, "lhk: new: "+dir+" was created, but 'go mod tidy' could not resolve github.com/lhk-soc/lhk/pdk@v0.4.0") || !strings.Contains(r.Stderr, "--pdk DIR") {
			t.Errorf("exit %d\nstderr: %s", r.Code, r.Stderr)
		}
		if mod := readGoMod(t, dir); !strings.Contains(mod, "require github.com/lhk-soc/lhk/pdk v0.4.0\n") || strings.Contains(mod, "replace") {
			t.Errorf("go.mod:\n%s", mod)
		}
		// A development build of lhk asks for the latest version.
		dir = filepath.Join(c.dir, "latest")
		r = c.run("", "new", dir)
		if r.Code != exitFailed || !strings.Contains(r.Stderr, "'go get github.com/lhk-soc/lhk/pdk@latest' could not resolve github.com/lhk-soc/lhk/pdk@latest") {
			t.Errorf("exit %d\nstderr: %s", r.Code, r.Stderr)
		}
	})
	t.Run("ErrUsage", func(t *testing.T) {
		c := newCLI(t, offline...)
		c.dir = t.TempDir()
		c.fails(exitUsage, "not lhk's PDK", "new", filepath.Join(c.dir, "x"), "--pdk", c.dir)
		c.fails(exitUsage, "not both", "new", filepath.Join(c.dir, "x"), "--pdk", pdk, "--pdk-version", "v1.0.0")
		c.fails(exitUsage, "want a version like v0.4.0", "new", filepath.Join(c.dir, "x"), "--pdk-version", "1.0")
		c.fails(exitUsage, "use lowercase letters", "new", filepath.Join(c.dir, "Bad"))
		c.fails(exitUsage, "use lowercase letters", "new", filepath.Join(c.dir, "under_score")) // the server refuses it as a plugin name
	})
}

// copyDir copies the regular files of src (not its subdirectories) to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
