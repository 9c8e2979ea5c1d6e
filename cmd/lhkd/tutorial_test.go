package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk/internal/wasmtest"
)

// TestTutorial runs every code block of docs/tutorial.md against a real
// daemon: Go blocks are written to the file their first line names, shell
// blocks run in order with bash in one working directory.
func TestTutorial(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	root, err := wasmtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "tutorial.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```(go|sh)\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 8 {
		t.Fatalf("found %d code blocks in the tutorial", len(blocks))
	}
	d := startDaemon(t, t.TempDir())
	work := t.TempDir()
	env := append(os.Environ(), "LHK="+d.URL, "TOKEN="+d.Admin, "LHK_SRC="+root, "GOFLAGS=-mod=mod")
	for i, b := range blocks {
		lang, code := b[1], b[2]
		if lang == "go" {
			first, _, _ := strings.Cut(code, "\n")
			name, ok := strings.CutPrefix(first, "// file: ")
			if !ok {
				t.Fatalf("go block %d does not start with // file: NAME", i)
			}
			path := filepath.Join(work, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(code), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		// Each shell block runs from the tutorial's folder, as a reader would.
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", code)
		cmd.Dir = work
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("shell block %d failed: %v\n--- block\n%s--- output\n%s", i, err, code, out)
		}
	}
}
