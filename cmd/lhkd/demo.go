package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lhk-soc/lhk"
)

// Demo users and their fixed tokens: the demo is for a laptop, so the commands
// it prints can be pasted as they are.
var demoUsers = []struct {
	name  string
	role  lhk.Role
	token string
}{
	{"alice", lhk.RoleAnalyst, "lhk_demo_alice"},
	{"victor", lhk.RoleViewer, "lhk_demo_victor"},
}

const demoAdminToken = "lhk_demo_admin"

// demoSchedules are set on demo plugins that are built from plugins/.
var demoSchedules = map[string]string{
	"ioc-extract": `{"cron":"@every 1m","timezone":"Asia/Tokyo","input":"Beacon from WS01 to 203.0.113.7 (evil-c2.example.net), payload sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}`,
}

// demo runs lhkd with demo users, and the plugins in ./plugins built from source,
// registered and scheduled.
func demo(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if host, _, err := net.SplitHostPort(cfg.Listen); err == nil && host != "127.0.0.1" && host != "localhost" && host != "::1" {
		return fmt.Errorf("the demo uses well-known tokens: listen on a loopback address, not %s", cfg.Listen)
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken = demoAdminToken
	}
	d, err := open(ctx, cfg, stdout, stderr)
	if err != nil {
		return err
	}
	if err := seedDemo(ctx, d, cfg, stdout); err != nil {
		d.close(context.Background())
		return fmt.Errorf("seed demo: %w", err)
	}
	fmt.Fprintf(stdout, "lhkd listening on %s\n", d.URL())
	fmt.Fprintf(stdout, `
Demo users: admin (token %s), alice the analyst (lhk_demo_alice), victor the viewer (lhk_demo_victor).
Try:
  curl -s -H 'Authorization: Bearer lhk_demo_alice' %[2]s/v1/plugins
  curl -s -H 'Authorization: Bearer lhk_demo_alice' --data 'Callback to 198.51.100.23 and hxxp://bad.example.org/x' %[2]s/v1/plugins/ioc-extract/invoke
  curl -s -H 'Authorization: Bearer lhk_demo_alice' '%[2]s/v1/invocations?trigger=cron&limit=5'
Stop with Ctrl-C; data stays in %[3]s.
`, cfg.AdminToken, d.URL(), cfg.Data)
	return d.serveUntil(ctx)
}

func seedDemo(ctx context.Context, d *daemon, cfg config, stdout io.Writer) error {
	actx := lhk.NewContextWithActor(ctx, "lhkd")
	for _, u := range demoUsers {
		if _, err := d.db.User(ctx, u.name); err == nil {
			continue
		}
		user := &lhk.User{Name: u.name, Role: u.role}
		if u.role == lhk.RoleAnalyst {
			user.Ceiling = lhk.Ceiling{Capabilities: lhk.Capabilities, Tenants: []string{"acme", "globex"}}
		}
		if err := d.db.CreateUser(actx, user, lhk.TokenHash(u.token)); err != nil {
			return err
		}
	}
	dirs, _ := filepath.Glob(filepath.Join("plugins", "*", "main.go"))
	if len(dirs) == 0 {
		fmt.Fprintln(stdout, "no plugins/ folder here: run the demo from the repository root to get demo plugins")
		return nil
	}
	for _, main := range dirs {
		dir := filepath.Dir(main)
		name := filepath.Base(dir)
		fmt.Fprintf(stdout, "building plugin %s…\n", name)
		wasm, err := buildPlugin(ctx, dir, filepath.Join(cfg.Data, "build", name+".wasm"))
		if err != nil {
			return err
		}
		if err := demoRequest(d, "POST", "/v1/plugins/"+name+"/versions", wasm, true); err != nil {
			return err
		}
		if sch, ok := demoSchedules[name]; ok {
			if err := demoRequest(d, "PUT", "/v1/plugins/"+name+"/schedule", []byte(sch), false); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoRequest sends one API request as alice through the daemon's handler. An
// upload of a module identical to the current version is skipped.
func demoRequest(d *daemon, method, path string, body []byte, upload bool) error {
	if upload {
		name := strings.Split(path, "/")[3]
		if p, err := d.db.Plugin(context.Background(), name); err == nil {
			if v := p.Current(); v != nil && v.SHA256 == sha256Hex(body) {
				return nil
			}
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer lhk_demo_alice")
	rec := httptest.NewRecorder()
	d.api.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, rec.Code, rec.Body.String())
	}
	return nil
}

// buildPlugin compiles a Go plugin package to out with the standard toolchain.
func buildPlugin(ctx context.Context, dir, out string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-buildmode=c-shared", "-o", abs, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s: %v\n%s", dir, err, b)
	}
	return os.ReadFile(abs)
}
