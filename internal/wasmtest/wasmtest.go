// Package wasmtest builds lhk plugins from source for tests, and finds the
// prebuilt Extism modules that ship with the extism go-sdk module.
//
// Builds are cached on disk, keyed by a hash of every source file in plugins/
// and pdk/ and the Go version, so many test packages and repeated runs share
// one build of each plugin. Parallel test processes are safe: each writes to a
// temporary file and renames it into place.
package wasmtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Module is the root module's path; the repository root is the directory of
// the go.mod declaring it.
const Module = "github.com/lhk-soc/lhk"

var (
	buildMu  sync.Mutex
	building = map[string]*sync.Mutex{} // one lock per output file in this process
)

// Build returns the WebAssembly module of the plugin package in dir, a path
// relative to the repository root inside plugins/ such as
// "plugins/testdata/echo" or "plugins/ioc-extract". It builds with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared
//
// in the plugins module, or returns a cached build of the same sources. A
// failed build fails tb with go's output.
func Build(tb testing.TB, dir string) []byte {
	tb.Helper()
	root, err := RepoRoot()
	if err != nil {
		tb.Fatalf("wasmtest: %v", err)
	}
	dir = filepath.ToSlash(filepath.Clean(dir))
	rel, ok := strings.CutPrefix(dir, "plugins/")
	if !ok {
		tb.Fatalf("wasmtest: plugin dir %q must be inside plugins/", dir)
	}
	if _, err := os.Stat(filepath.Join(root, dir)); err != nil {
		tb.Fatalf("wasmtest: plugin dir: %v", err)
	}
	key, err := sourceKey(root, dir)
	if err != nil {
		tb.Fatalf("wasmtest: hash sources: %v", err)
	}
	cacheDir, err := cacheRoot()
	if err != nil {
		tb.Fatalf("wasmtest: %v", err)
	}
	out := filepath.Join(cacheDir, key[:32], strings.ReplaceAll(rel, "/", "_")+".wasm")

	mu := fileLock(out)
	mu.Lock()
	defer mu.Unlock()
	if b, err := os.ReadFile(out); err == nil && len(b) > 0 {
		return b
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		tb.Fatalf("wasmtest: %v", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".build-*.wasm")
	if err != nil {
		tb.Fatalf("wasmtest: %v", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())

	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", tmp.Name(), "./"+rel)
	cmd.Dir = filepath.Join(root, "plugins")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOWORK=off", "CGO_ENABLED=0")
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		tb.Fatalf("wasmtest: build %s: %v\n%s", dir, err, output.String())
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		tb.Fatalf("wasmtest: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatalf("wasmtest: %v", err)
	}
	return b
}

// SDKWasm returns a module from the wasm/ folder of the extism go-sdk module
// in the module cache, e.g. "count_vowels.wasm" (Rust PDK) or
// "hello_haskell.wasm". It skips the test when the file is not there.
func SDKWasm(tb testing.TB, name string) []byte {
	tb.Helper()
	dir, err := sdkDir()
	if err != nil {
		tb.Skipf("wasmtest: extism go-sdk not found in the module cache: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "wasm", name))
	if err != nil {
		tb.Skipf("wasmtest: %v", err)
	}
	return b
}

var sdkDir = sync.OnceValues(func() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/extism/go-sdk")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go list: %v: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("go list: %w", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", errors.New("go list: module not downloaded")
	}
	return dir, nil
})

// RepoRoot returns the repository root: the nearest directory at or above the
// working directory whose go.mod declares module github.com/lhk-soc/lhk.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module "+Module+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod of module " + Module + " above the working directory")
		}
		dir = parent
	}
}

func fileLock(path string) *sync.Mutex {
	buildMu.Lock()
	defer buildMu.Unlock()
	mu, ok := building[path]
	if !ok {
		mu = new(sync.Mutex)
		building[path] = mu
	}
	return mu
}

// cacheRoot is where builds are kept: $LHK_WASMTEST_CACHE, or lhk/wasmtest in
// the user's cache directory.
func cacheRoot() (string, error) {
	if d := os.Getenv("LHK_WASMTEST_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "lhk", "wasmtest"), nil
}

// sourceKey hashes the Go version, the plugin dir and every source file of
// plugins/ and pdk/ (path and content).
func sourceKey(root, dir string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", runtime.Version(), goEnv("GOVERSION"), dir)
	for _, top := range []string{"plugins", "pdk"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			name := d.Name()
			if !strings.HasSuffix(name, ".go") && name != "go.mod" && name != "go.sum" {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(b))
			h.Write(b)
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

var goEnvCache sync.Map

// goEnv returns `go env name` (the toolchain that builds may differ from the
// one that built the test binary).
func goEnv(name string) string {
	if v, ok := goEnvCache.Load(name); ok {
		return v.(string)
	}
	out, _ := exec.Command("go", "env", name).Output()
	v := strings.TrimSpace(string(out))
	goEnvCache.Store(name, v)
	return v
}
