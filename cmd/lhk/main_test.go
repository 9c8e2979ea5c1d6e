package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests build lhk and lhkd once, start one lhkd on 127.0.0.1:0 and run
// the lhk binary against it.
var (
	lhkBin    string
	daemonURL string
	repoRoot  string
)

const adminToken = "lhk_cli_test_admin_token_9f3a"

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lhk-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if repoRoot, err = filepath.Abs("../.."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	lhkBin = filepath.Join(dir, "lhk")
	lhkdBin := filepath.Join(dir, "lhkd")
	for bin, pkg := range map[string]string{lhkBin: "./cmd/lhk", lhkdBin: "./cmd/lhkd"} {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			return 1
		}
	}
	stop, err := startDaemon(lhkdBin, filepath.Join(dir, "data"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return code
}

// startDaemon runs `lhkd serve --listen 127.0.0.1:0` and reads its URL.
func startDaemon(bin, data string) (stop func() error, err error) {
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", data)
	cmd.Env = append(cleanEnv(), "LHK_ADMIN_TOKEN="+adminToken)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "lhkd listening on "); ok {
				urls <- u
			}
		}
		close(urls)
	}()
	u, ok := <-urls
	if !ok {
		_ = cmd.Wait()
		return nil, fmt.Errorf("lhkd exited before listening:\n%s", stderr.String())
	}
	daemonURL = u
	return func() error {
		_ = cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("lhkd shutdown: %v\n%s", err, stderr.String())
		}
		return nil
	}, nil
}

// cleanEnv is the environment without LHK_ variables and the config dir.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LHK_") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// cli is an lhk user: a config directory and environment.
type cli struct {
	t      *testing.T
	config string   // XDG_CONFIG_HOME
	env    []string // extra environment
	dir    string   // working directory; "" for the test's
}

var (
	secretsMu sync.Mutex
	secrets   = []string{adminToken}
)

func addSecret(s string) {
	secretsMu.Lock()
	secrets = append(secrets, s)
	secretsMu.Unlock()
}

// newCLI is a user with an empty config directory. The go command that
// build, push and new run takes the same directory for its telemetry; it is
// turned off there, since a telemetry process outliving the test would write
// into the directory while the test removes it.
func newCLI(t *testing.T, env ...string) *cli {
	t.Helper()
	dir := t.TempDir()
	mode := filepath.Join(dir, "go", "telemetry", "mode")
	if err := os.MkdirAll(filepath.Dir(mode), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mode, []byte("off"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &cli{t: t, config: dir, env: env}
}

// asAdmin is a user reaching the test daemon through LHK_SERVER and LHK_TOKEN.
func asAdmin(t *testing.T) *cli {
	return newCLI(t, "LHK_SERVER="+daemonURL, "LHK_TOKEN="+adminToken)
}

type result struct {
	Stdout, Stderr string
	Code           int
}

// run runs lhk with args and optional stdin. It fails the test when a token
// appears in any output.
func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	cmd := exec.Command(lhkBin, args...)
	cmd.Env = append(append(cleanEnv(), "XDG_CONFIG_HOME="+c.config), c.env...)
	cmd.Dir = c.dir
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run lhk %v: %v", args, err)
	}
	secretsMu.Lock()
	defer secretsMu.Unlock()
	for _, s := range secrets {
		if strings.Contains(r.Stdout, s) || strings.Contains(r.Stderr, s) {
			c.t.Errorf("lhk %v printed a token:\nstdout: %s\nstderr: %s", args, r.Stdout, r.Stderr)
		}
	}
	return r
}

// ok runs lhk and fails the test unless it exits 0.
func (c *cli) ok(args ...string) result {
	c.t.Helper()
	r := c.run("", args...)
	if r.Code != 0 {
		c.t.Fatalf("lhk %v exited %d:\nstdout: %s\nstderr: %s", args, r.Code, r.Stdout, r.Stderr)
	}
	return r
}

// fails runs lhk and checks the exit code and that stderr is one line holding want.
func (c *cli) fails(code int, want string, args ...string) result {
	c.t.Helper()
	r := c.run("", args...)
	if r.Code != code {
		c.t.Fatalf("lhk %v exited %d, want %d:\nstdout: %s\nstderr: %s", args, r.Code, code, r.Stdout, r.Stderr)
	}
	if n := strings.Count(strings.TrimRight(r.Stderr, "\n"), "\n"); n != 0 || !strings.HasPrefix(r.Stderr, "lhk: ") {
		c.t.Errorf("lhk %v: want one error line, got:\n%s", args, r.Stderr)
	}
	if !strings.Contains(r.Stderr, want) {
		c.t.Errorf("lhk %v: stderr %q does not contain %q", args, r.Stderr, want)
	}
	return r
}

// decodeJSON parses a command's -o json output.
func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
}

// createUser makes a user through the API and returns its token.
func createUser(t *testing.T, name, role, ceiling string) string {
	t.Helper()
	body := fmt.Sprintf(`{"name":%q,"role":%q`, name, role)
	if ceiling != "" {
		body += `,"ceiling":` + ceiling
	}
	body += "}"
	req, _ := http.NewRequest("POST", daemonURL+"/v1/users", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated || json.Unmarshal(b, &out) != nil {
		t.Fatalf("create user %s: %d %s", name, res.StatusCode, b)
	}
	addSecret(out.Token)
	return out.Token
}

// api calls the daemon's HTTP API as admin and decodes the answer into out.
func api(t *testing.T, method, path, body string, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, daemonURL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		decodeJSON(t, string(b), out)
	}
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestLogin(t *testing.T) {
	c := newCLI(t)
	token := createUser(t, "login-alice", "analyst", "")

	t.Run("OK", func(t *testing.T) {
		c.t = t
		r := c.ok("login", "--server", daemonURL, "--token", token, "--context", "lab")
		if !strings.Contains(r.Stdout, "as login-alice (analyst)") || !strings.Contains(r.Stdout, `"lab"`) {
			t.Errorf("login output: %s", r.Stdout)
		}
		path := filepath.Join(c.config, "lhk", "config.json")
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("config mode %v, want 0600", st.Mode().Perm())
		}
		var cfg config
		b, _ := os.ReadFile(path)
		decodeJSON(t, string(b), &cfg)
		if cfg.Current != "lab" || cfg.Contexts["lab"].Token != token || cfg.Contexts["lab"].Server != daemonURL {
			t.Errorf("config file: %s", b)
		}
		// The stored context is used without flags or environment.
		c.ok("plugins")
		if r := c.ok("whoami"); r.Stdout != "login-alice (analyst) on "+daemonURL+"\nceiling: capabilities none; tenants none\n" {
			t.Errorf("whoami: %q", r.Stdout)
		}
	})
	t.Run("TokenFromStdin", func(t *testing.T) {
		c.t = t
		r := c.run(adminToken+"\n", "login", "--server", daemonURL, "--token", "-", "--context", "prod")
		if r.Code != 0 {
			t.Fatalf("exit %d: %s", r.Code, r.Stderr)
		}
	})
	t.Run("Contexts", func(t *testing.T) {
		c.t = t
		r := c.ok("context", "list")
		if !strings.Contains(r.Stdout, "lab") || !strings.Contains(r.Stdout, "prod") || !strings.Contains(r.Stdout, "login-alice") {
			t.Errorf("context list: %s", r.Stdout)
		}
		var list struct {
			Contexts []struct {
				Name    string `json:"name"`
				Current bool   `json:"current"`
			} `json:"contexts"`
		}
		decodeJSON(t, c.ok("context", "list", "-o", "json").Stdout, &list)
		if len(list.Contexts) != 2 || list.Contexts[1].Name != "prod" || !list.Contexts[1].Current {
			t.Errorf("contexts: %+v", list.Contexts)
		}
		c.ok("context", "use", "lab")
		decodeJSON(t, c.ok("context", "list", "-o", "json").Stdout, &list)
		if !list.Contexts[0].Current {
			t.Errorf("after use lab: %+v", list.Contexts)
		}
		c.fails(exitUsage, `no context "nope"`, "context", "use", "nope")
		// --context picks another one for one command: admin may list users' audit.
		c.ok("--context", "prod", "plugins")
	})
	t.Run("ErrWrongToken", func(t *testing.T) {
		c.t = t
		addSecret("lhk_wrong_token_123")
		c.fails(exitAuth, "invalid token", "login", "--server", daemonURL, "--token", "lhk_wrong_token_123")
		bad := newCLI(t, "LHK_SERVER="+daemonURL, "LHK_TOKEN=lhk_wrong_token_123")
		bad.fails(exitAuth, "invalid token", "plugins")
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		newCLI(t, "LHK_SERVER="+daemonURL).fails(exitAuth, "no token", "runs")
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		u := closedURL(t)
		c.t = t
		c.fails(exitUnreachable, "cannot reach "+u, "login", "--server", u, "--token", token)
		newCLI(t, "LHK_SERVER="+u, "LHK_TOKEN="+token).fails(exitUnreachable, "cannot reach "+u, "plugins")
	})
}

func TestUsageErrors(t *testing.T) {
	c := asAdmin(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"MissingFlag", []string{"logs", "search", "x"}, `required flag(s) "tenant" not set`},
		{"MissingArg", []string{"run"}, "accepts 1 arg"},
		{"UnknownCommand", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"UnknownFlag", []string{"plugins", "--bogus"}, "unknown flag: --bogus"},
		{"BadOutput", []string{"plugins", "-o", "yaml"}, `-o "yaml"`},
		{"BadCondition", []string{"logs", "find", "host.name", "--tenant", "acme"}, "no operator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			c.fails(exitUsage, tc.want, tc.args...)
		})
	}
	t.Run("LoginWithoutServer", func(t *testing.T) {
		newCLI(t).fails(exitUsage, "--server URL is required", "login", "--token", "x")
	})
}

func TestPushInvokeRuns(t *testing.T) {
	c := asAdmin(t)
	echoDir := filepath.Join(repoRoot, "plugins", "testdata", "echo")

	r := c.ok("push", echoDir, "--name", "cli-echo")
	if !strings.Contains(r.Stdout, "plugin cli-echo version 1") || !strings.Contains(r.Stdout, "capabilities required: none") {
		t.Errorf("push output: %s", r.Stdout)
	}
	r = c.ok("push", echoDir, "--name", "cli-echo", "-o", "json")
	var up uploadAnswer
	decodeJSON(t, r.Stdout, &up)
	if up.Version != 2 || up.CapabilitiesRequired == nil {
		t.Errorf("second push: %+v", up)
	}

	if r = c.ok("invoke", "cli-echo", "--data", "hello cli"); r.Stdout != "hello cli" || !strings.Contains(r.Stderr, "invocation ") {
		t.Errorf("invoke: stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	if r = c.ok("invoke", "cli-echo", "--data", "quietly", "-q"); r.Stdout != "quietly" || r.Stderr != "" {
		t.Errorf("invoke -q: stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	file := filepath.Join(t.TempDir(), "in.json")
	os.WriteFile(file, []byte(`{"from":"file"}`), 0o644)
	if r = c.ok("invoke", "cli-echo", "--data", "@"+file); r.Stdout != `{"from":"file"}` {
		t.Errorf("invoke @file: %q", r.Stdout)
	}
	if r = c.run("from stdin", "invoke", "cli-echo", "upper", "--data", "-"); r.Code != 0 || r.Stdout != "FROM STDIN" {
		t.Errorf("invoke upper from stdin: %d %q %s", r.Code, r.Stdout, r.Stderr)
	}
	r = c.ok("invoke", "cli-echo", "--data", "later", "--async", "-o", "json")
	var async struct{ Invocation string }
	decodeJSON(t, r.Stdout, &async)
	if async.Invocation == "" {
		t.Errorf("async: %s", r.Stdout)
	}
	c.fails(exitFailed, "not_found", "invoke", "no-such-plugin")

	// runs: newest first, trigger cli.
	var list struct {
		Invocations []invocationJSON `json:"invocations"`
	}
	decodeJSON(t, c.ok("runs", "cli-echo", "--trigger", "cli", "--limit", "10", "-o", "json").Stdout, &list)
	if len(list.Invocations) != 5 {
		t.Fatalf("runs: want 5 cli runs, got %+v", list.Invocations)
	}
	var sync invocationJSON
	for _, inv := range list.Invocations {
		if inv.Trigger != "cli" || inv.Plugin != "cli-echo" {
			t.Errorf("run %+v", inv)
		}
		if inv.Function == "upper" {
			sync = inv
		}
	}
	if r = c.ok("runs", "cli-echo"); !strings.Contains(r.Stdout, sync.ID) || !strings.HasPrefix(r.Stdout, "ID ") {
		t.Errorf("runs table:\n%s", r.Stdout)
	}
	if r = c.ok("run", sync.ID); !strings.Contains(r.Stdout, "FROM STDIN") || !strings.Contains(r.Stdout, "status:    ok") {
		t.Errorf("run %s:\n%s", sync.ID, r.Stdout)
	}
	var inv invocationJSON
	decodeJSON(t, c.ok("run", sync.ID, "-o", "json").Stdout, &inv)
	if inv.Output == nil || *inv.Output != "FROM STDIN" || inv.Caller != "admin" {
		t.Errorf("run -o json: %+v", inv)
	}
	c.fails(exitFailed, "not_found", "run", "no-such-id")

	t.Run("PluginFailure", func(t *testing.T) {
		c.t = t
		c.ok("push", filepath.Join(repoRoot, "plugins", "testdata", "fail"), "--name", "cli-fail")
		r := c.fails(exitFailed, "fail fixture: no tenant given", "invoke", "cli-fail")
		if !strings.Contains(r.Stderr, "lhk run ") {
			t.Errorf("failure names no invocation: %s", r.Stderr)
		}
	})
	t.Run("PluginCommands", func(t *testing.T) {
		c.t = t
		if r := c.ok("plugins"); !strings.Contains(r.Stdout, "cli-echo") {
			t.Errorf("plugins:\n%s", r.Stdout)
		}
		var ps pluginList
		decodeJSON(t, c.ok("plugins", "-o", "json").Stdout, &ps)
		if len(ps.Plugins) == 0 {
			t.Errorf("plugins -o json: %+v", ps)
		}
		c.ok("plugin", "rollback", "cli-echo", "1")
		var p pluginJSON
		decodeJSON(t, c.ok("plugin", "show", "cli-echo", "-o", "json").Stdout, &p)
		if p.CurrentVersion != 1 || len(p.Versions) != 2 {
			t.Errorf("after rollback: %+v", p)
		}
		if r := c.ok("plugin", "grant", "cli-echo", "--cap", "logs.read,tickets.read", "--tenant", "acme"); !strings.Contains(r.Stdout, "logs.read,tickets.read") {
			t.Errorf("grant: %s", r.Stdout)
		}
		if r := c.ok("plugin", "show", "cli-echo"); !strings.Contains(r.Stdout, "tenants acme") || !strings.Contains(r.Stdout, "1 *") {
			t.Errorf("show:\n%s", r.Stdout)
		}
		c.fails(exitFailed, "invalid", "plugin", "grant", "cli-echo", "--cap", "logs.wrte")
		c.ok("plugin", "rm", "cli-fail")
		c.fails(exitFailed, "not_found", "plugin", "show", "cli-fail")
	})
}

func TestLogs(t *testing.T) {
	c := asAdmin(t)
	now := time.Now().UTC()
	var buf bytes.Buffer
	events := []map[string]any{
		{"host.name": "CLI-WS01", "source.ip": "10.20.1.5", "user.name": "hsato", "process.name": "powershell.exe", "process.command_line": "powershell.exe -nop -enc JABj"},
		{"host.name": "CLI-WS02", "source.ip": "192.168.7.7", "user.name": "kito", "process.name": "explorer.exe", "destination.port": 443},
		{"host.name": "SRV-CLI", "source.ip": "10.99.0.1", "user.name": "svc", "process.name": "sshd", "destination.port": 22},
	}
	for i, ev := range events {
		ev["@timestamp"] = now.Add(-time.Duration(i+1) * time.Minute).Format(time.RFC3339)
		b, _ := json.Marshal(ev)
		buf.Write(append(b, '\n'))
	}
	buf.WriteString("{not json\n")
	file := filepath.Join(t.TempDir(), "events.ndjson")
	os.WriteFile(file, buf.Bytes(), 0o644)

	r := c.ok("logs", "ingest", file, "--tenant", "cli-t")
	if !strings.Contains(r.Stdout, "accepted 3, rejected 1") || !strings.Contains(r.Stdout, "line 4:") {
		t.Errorf("ingest: %s", r.Stdout)
	}
	t.Run("Batches", func(t *testing.T) {
		c.t = t
		// Tiny batches: line numbers still count over the whole file.
		var ans ingestAnswer
		decodeJSON(t, c.ok("logs", "ingest", file, "--tenant", "cli-batch", "--batch-bytes", "1", "-o", "json").Stdout, &ans)
		if ans.Accepted != 3 || ans.Rejected != 1 || len(ans.Errors) != 1 || ans.Errors[0].Line != 4 {
			t.Errorf("batched ingest: %+v", ans)
		}
		// From standard input; no progress on a standard error that is not a terminal.
		r := c.run(buf.String(), "logs", "ingest", "-", "--tenant", "cli-stdin", "--batch-bytes", "1")
		if r.Code != 0 || r.Stdout != "accepted 3, rejected 1\n  line 4: "+ans.Errors[0].Message+"\n" || r.Stderr != "" {
			t.Errorf("ingest from stdin: %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
		}
	})

	t.Run("Search", func(t *testing.T) {
		c.t = t
		r := c.ok("logs", "search", "powershell -enc", "--tenant", "cli-t", "--since", "24h")
		if !strings.Contains(r.Stdout, "CLI-WS01") || strings.Contains(r.Stdout, "CLI-WS02") || r.Stderr != "1 event\n" {
			t.Errorf("search:\n%s\n%s", r.Stdout, r.Stderr)
		}
		var ans searchAnswer
		decodeJSON(t, c.ok("logs", "search", "hsato", "--tenant", "cli-t", "--from", now.Add(-time.Hour).Format(time.RFC3339), "--to", now.Add(time.Hour).Format(time.RFC3339), "-o", "json").Stdout, &ans)
		if len(ans.Events) != 1 || ans.Events[0]["user.name"] != "hsato" {
			t.Errorf("search -o json: %+v", ans)
		}
		// Another tenant sees nothing.
		decodeJSON(t, c.ok("logs", "search", "hsato", "--tenant", "cli-other", "-o", "json").Stdout, &ans)
		if len(ans.Events) != 0 {
			t.Errorf("other tenant: %+v", ans)
		}
		decodeJSON(t, c.ok("logs", "search", "CLI", "--tenant", "cli-t", "--limit", "1", "-o", "json").Stdout, &ans)
		if len(ans.Events) != 1 || !ans.Truncated || ans.NextCursor == "" {
			t.Errorf("limit 1: %+v", ans)
		}
	})

	t.Run("Find", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			conds []string
			hosts []string
		}{
			{"Eq", []string{"host.name=CLI-WS02"}, []string{"CLI-WS02"}},
			{"Contains", []string{"process.command_line~-enc"}, []string{"CLI-WS01"}},
			{"Prefix", []string{"host.name^CLI-"}, []string{"CLI-WS01", "CLI-WS02"}},
			{"CIDR", []string{"source.ip/10.0.0.0/8"}, []string{"CLI-WS01", "SRV-CLI"}},
			{"And", []string{"source.ip/10.0.0.0/8", "user.name=svc"}, []string{"SRV-CLI"}},
			{"Exists", []string{"destination.port?"}, []string{"CLI-WS02", "SRV-CLI"}},
			{"None", []string{"host.name=NOPE"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c.t = t
				var ans searchAnswer
				decodeJSON(t, c.ok(append(append([]string{"logs", "find"}, tc.conds...), "--tenant", "cli-t", "--since", "2h", "-o", "json")...).Stdout, &ans)
				var got []string
				for _, ev := range ans.Events {
					got = append(got, fmt.Sprint(ev["host.name"]))
				}
				if strings.Join(sorted(got), ",") != strings.Join(tc.hosts, ",") {
					t.Errorf("find %v: got %v, want %v", tc.conds, got, tc.hosts)
				}
			})
		}
		c.t = t
		if r := c.ok("logs", "find", "host.name^CLI-", "--tenant", "cli-t"); !strings.Contains(r.Stdout, "HOST.NAME") || !strings.Contains(r.Stdout, "CLI-WS02") {
			t.Errorf("find table:\n%s", r.Stdout)
		}
		c.fails(exitFailed, "invalid", "logs", "find", "source.ip/not-a-cidr", "--tenant", "cli-t")
	})
}

func sorted(xs []string) []string {
	out := append([]string(nil), xs...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestSchedule(t *testing.T) {
	c := asAdmin(t)
	c.ok("push", filepath.Join(repoRoot, "plugins", "testdata", "echo"), "--name", "cli-sched", "--schedule", "0 9 * * 1", "--tz", "Asia/Tokyo")

	r := c.ok("schedule", "next", "0 9 * * 1", "--tz", "Asia/Tokyo")
	if !strings.Contains(r.Stdout, "next runs (Asia/Tokyo)") || strings.Count(r.Stdout, "Mon ") != 5 || !strings.Contains(r.Stdout, "09:00 JST") {
		t.Errorf("next:\n%s", r.Stdout)
	}
	var prev struct {
		NextRuns []time.Time `json:"next_runs"`
	}
	decodeJSON(t, c.ok("schedule", "next", "@daily", "--count", "3", "-o", "json").Stdout, &prev)
	if len(prev.NextRuns) != 3 {
		t.Errorf("next -o json: %+v", prev)
	}
	c.fails(exitFailed, `invalid cron spec "61 * * * *"`, "schedule", "next", "61 * * * *")
	c.fails(exitFailed, "expected exactly 5 fields", "schedule", "set", "cli-sched", "* * *")
	c.fails(exitFailed, "Mars/Olympus", "schedule", "set", "cli-sched", "@daily", "--tz", "Mars/Olympus")

	r = c.ok("schedule", "set", "cli-sched", "30 18 * * *", "--tz", "Europe/Berlin", "--input", `{"tenant":"acme"}`)
	if !strings.Contains(r.Stdout, "30 18 * * * Europe/Berlin") || !strings.Contains(r.Stdout, "18:30 CE") {
		t.Errorf("set:\n%s", r.Stdout)
	}
	var p pluginJSON
	decodeJSON(t, c.ok("plugin", "show", "cli-sched", "-o", "json").Stdout, &p)
	if p.Schedule == nil || p.Schedule.Input != `{"tenant":"acme"}` || len(p.NextRuns) != 5 {
		t.Errorf("schedule: %+v", p.Schedule)
	}
	c.ok("schedule", "rm", "cli-sched")
	decodeJSON(t, c.ok("plugin", "show", "cli-sched", "-o", "json").Stdout, &p)
	if p.Schedule != nil {
		t.Errorf("after rm: %+v", p.Schedule)
	}
}

func TestCompletion(t *testing.T) {
	c := newCLI(t)
	for _, sh := range []string{"bash", "zsh", "fish"} {
		if r := c.ok("completion", sh); !strings.Contains(r.Stdout, "lhk") || len(r.Stdout) < 500 {
			t.Errorf("completion %s: %q", sh, r.Stdout)
		}
	}
	// Plugin names complete from the server.
	a := asAdmin(t)
	a.ok("push", filepath.Join(repoRoot, "plugins", "testdata", "echo"), "--name", "cli-complete")
	if r := a.ok("__complete", "invoke", "cli-comp"); !strings.Contains(r.Stdout, "cli-complete") {
		t.Errorf("completion of plugin names: %s", r.Stdout)
	}
}

// TestFollow runs `lhk runs --follow` in process and stops it with its context.
func TestFollow(t *testing.T) {
	c := asAdmin(t)
	c.ok("push", filepath.Join(repoRoot, "plugins", "testdata", "echo"), "--name", "cli-follow")
	first := c.ok("invoke", "cli-follow", "--data", "one", "--async", "-o", "json").Stdout

	t.Setenv("LHK_SERVER", daemonURL)
	t.Setenv("LHK_TOKEN", adminToken)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"runs", "cli-follow", "--follow", "--interval", "100ms", "-o", "json"}, strings.NewReader(""), &out, &errOut)
	}()
	var a1 struct{ Invocation string }
	decodeJSON(t, first, &a1)
	waitFor(t, "the first run", func() bool { return strings.Contains(out.String(), a1.Invocation) })
	second := c.ok("invoke", "cli-follow", "--data", "two")
	id := strings.TrimSpace(strings.TrimPrefix(second.Stderr, "invocation "))
	waitFor(t, "the second run", func() bool { return strings.Contains(out.String(), id) })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("follow exited %d: %s", code, errOut.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var inv invocationJSON
		decodeJSON(t, line, &inv)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestParseCondition(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want condition
		err  bool
	}{
		{in: "host.name=WS01", want: condition{"host.name", "eq", "WS01"}},
		{in: "url.full=https://x/?a=b", want: condition{"url.full", "eq", "https://x/?a=b"}},
		{in: "process.command_line~-enc JAB", want: condition{"process.command_line", "contains", "-enc JAB"}},
		{in: "host.name^ACME-", want: condition{"host.name", "prefix", "ACME-"}},
		{in: "source.ip/10.0.0.0/8", want: condition{"source.ip", "cidr", "10.0.0.0/8"}},
		{in: "destination.port>1024", want: condition{"destination.port", "gt", "1024"}},
		{in: "event.code<5000", want: condition{"event.code", "lt", "5000"}},
		{in: "@timestamp>2026-11-01", want: condition{"@timestamp", "gt", "2026-11-01"}},
		{in: "url.full?", want: condition{"url.full", "exists", ""}},
		{in: "host.name=", want: condition{"host.name", "eq", ""}},
		{in: "host.name", err: true},
		{in: "=x", err: true},
		{in: "host.name!x", err: true},
		{in: "url.full?x", err: true},
	} {
		got, err := parseCondition(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("parseCondition(%q) = %+v, %v; want %+v, err %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && exitCode(err) != exitUsage {
			t.Errorf("parseCondition(%q): exit code %d, want %d", tc.in, exitCode(err), exitUsage)
		}
	}
}
