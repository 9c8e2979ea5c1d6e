package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lhk-soc/lhk"
)

// pdkModule is the module path of lhk's PDK.
const pdkModule = "github.com/lhk-soc/lhk/pdk"

// pdkLocalVersion is the version a go.mod requires of a PDK it replaces with
// a local directory (the one the go command itself writes).
const pdkLocalVersion = "v0.0.0-00010101000000-000000000000"

// pdkSource is where a new plugin gets the PDK from: a local directory
// (replace) or a published version ("latest" lets Go pick the newest).
type pdkSource struct {
	dir     string // absolute; "" for a published version
	version string // when dir is ""
	how     string // flag, env, checkout, version, default
}

func (s pdkSource) String() string {
	if s.dir != "" {
		return "local PDK " + s.dir
	}
	return pdkModule + "@" + s.version
}

func (a *app) newCommand() *cobra.Command {
	var pdkDir, pdkVersion string
	cmd := &cobra.Command{
		Use:   "new NAME [--pdk DIR | --pdk-version VERSION]",
		Short: "Create a Go plugin on lhk's PDK in a new directory NAME",
		Long: `new writes NAME/main.go (an entry function 'run' exported with
//go:wasmexport that reads JSON input, logs and answers JSON) and NAME/go.mod
requiring the PDK module ` + pdkModule + `, then runs 'go mod tidy'.

Where the PDK comes from, first match wins:
  --pdk DIR            a local copy of lhk's pdk/ (a replace directive)
  --pdk-version V      the published module at version V (or latest)
  LHK_PDK=DIR          as --pdk
  an lhk checkout      the pdk/ of the lhk repository around the current
                       directory or NAME (a replace directive)
  otherwise            the published module at this lhk's release version,
                       or the latest one; 'go mod tidy' downloads it through
                       the Go module proxy (GOPROXY), so it needs network
                       access once, or a module cache holding it.

Building needs Go 1.24 or later; no TinyGo. Build and push with 'lhk push NAME'.`,
		Example: `  lhk new hunt                       # inside an lhk checkout, or with network access
  lhk new hunt --pdk ~/src/lhk/pdk   # against a local PDK
  lhk new hunt --pdk-version v0.4.0`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			dir := argv[0]
			name := filepath.Base(dir)
			if lhk.ValidatePluginName(name) != nil {
				return usageErrorf("new: %q: use lowercase letters, digits and dashes (at most 63), starting with a letter or digit, as plugin names do", name)
			}
			if _, err := os.Stat(dir); err == nil {
				return usageErrorf("new: %s already exists", dir)
			}
			absDir, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			src, err := a.pdkSource(pdkDir, pdkVersion, absDir)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod(name, absDir, src)), 0o644); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(strings.ReplaceAll(mainTemplate, "NAME", name)), 0o644); err != nil {
				return err
			}
			tidied, err := a.resolvePDK(cmd.Context(), dir, src)
			if err != nil {
				return err
			}
			if v := requiredVersion(filepath.Join(dir, "go.mod")); src.dir == "" && v != "" {
				src.version = v
			}
			if a.jsonOutput() {
				out := map[string]any{"dir": absDir, "name": name, "pdk_from": src.how, "tidy": tidied}
				if src.dir != "" {
					out["pdk_dir"] = src.dir
				} else {
					out["pdk_version"] = src.version
				}
				return a.printValue(out)
			}
			fmt.Fprintf(a.stdout, "created %s/main.go and %s/go.mod on %s\nnext: lhk push %s\n", dir, dir, src, dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&pdkDir, "pdk", "", "a local copy of lhk's pdk/ module (env LHK_PDK)")
	cmd.Flags().StringVar(&pdkVersion, "pdk-version", "", "require the published PDK at this version, e.g. v0.4.0 or latest")
	return cmd
}

// pdkSource decides where the PDK of a new plugin in dir comes from.
func (a *app) pdkSource(flagDir, flagVersion, dir string) (pdkSource, error) {
	local := func(d, how string) (pdkSource, error) {
		abs, err := filepath.Abs(d)
		if err != nil {
			return pdkSource{}, err
		}
		if modulePath(filepath.Join(abs, "go.mod")) != pdkModule {
			return pdkSource{}, usageErrorf("new: %s is not lhk's PDK: its go.mod does not declare module %s", d, pdkModule)
		}
		return pdkSource{dir: abs, how: how}, nil
	}
	switch {
	case flagDir != "" && flagVersion != "":
		return pdkSource{}, usageErrorf("new: give --pdk or --pdk-version, not both")
	case flagDir != "":
		return local(flagDir, "flag")
	case flagVersion != "":
		if flagVersion != "latest" && !strings.HasPrefix(flagVersion, "v") {
			return pdkSource{}, usageErrorf("new: --pdk-version %q: want a version like v0.4.0, or latest", flagVersion)
		}
		return pdkSource{version: flagVersion, how: "version"}, nil
	}
	if env := a.getenv("LHK_PDK"); env != "" {
		return local(env, "env")
	}
	starts := []string{filepath.Dir(dir)}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, s := range starts {
		if d := findPDK(s); d != "" {
			return pdkSource{dir: d, how: "checkout"}, nil
		}
	}
	v := releaseVersion()
	if v == "" {
		v = "latest"
	}
	return pdkSource{version: v, how: "default"}, nil
}

// findPDK looks in dir and its parents for lhk's PDK: a pdk/ of an lhk
// checkout, or the PDK module itself.
func findPDK(dir string) string {
	for {
		if modulePath(filepath.Join(dir, "go.mod")) == pdkModule {
			return dir
		}
		if p := filepath.Join(dir, "pdk"); modulePath(filepath.Join(p, "go.mod")) == pdkModule {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// modulePath reads the module path a go.mod declares ("" when unreadable).
func modulePath(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// requiredVersion reads the PDK version a go.mod requires.
func requiredVersion(gomod string) string {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(pdkModule) + `\s+(v\S+)`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// within reports whether dir is root or inside it.
func within(dir, root string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

var releaseRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`)

// releaseVersion is this lhk's release version (v1.2.3), from -ldflags or
// 'go install …@v1.2.3'; "" for a development build.
func releaseVersion() string {
	if releaseRE.MatchString(version) {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && releaseRE.MatchString(bi.Main.Version) {
		return bi.Main.Version
	}
	return ""
}

// goMod is the go.mod of a new plugin in dir. A plugin inside the tree that
// holds the local PDK (an lhk checkout) refers to it by a relative path, so
// the checkout can move; otherwise by its absolute path.
func goMod(name, dir string, src pdkSource) string {
	var b strings.Builder
	fmt.Fprintf(&b, "module %s\n\ngo 1.24\n", name)
	switch {
	case src.dir != "":
		fmt.Fprintf(&b, "\nrequire %s %s\n", pdkModule, pdkLocalVersion)
		path := src.dir
		if within(dir, filepath.Dir(src.dir)) {
			if rel, err := filepath.Rel(dir, src.dir); err == nil {
				path = filepath.ToSlash(rel)
			}
		}
		fmt.Fprintf(&b, "\nreplace %s => %s\n", pdkModule, path)
	case src.version != "latest":
		fmt.Fprintf(&b, "\nrequire %s %s\n", pdkModule, src.version)
	}
	return b.String()
}

// resolvePDK runs 'go get' (for the latest PDK) and 'go mod tidy' in dir. It
// reports whether it did; without Go it warns and leaves that for later.
func (a *app) resolvePDK(ctx context.Context, dir string, src pdkSource) (bool, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		a.notef("warning: the go command is not on PATH; install Go 1.24 or later, then run 'go mod tidy' in %s\n", dir)
		return false, nil
	}
	steps := [][]string{{"mod", "tidy"}}
	if src.dir == "" && src.version == "latest" {
		steps = [][]string{{"get", pdkModule + "@latest"}, {"mod", "tidy"}}
	}
	p := a.startProgress("resolving "+src.String()+" (go mod tidy)", 0)
	defer p.finish()
	for _, args := range steps {
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			p.finish()
			last := a.goOutput(out.Bytes())
			hint := "check network access to the Go module proxy, then run 'go mod tidy' there; or remove it and use --pdk DIR with a copy of lhk's pdk/"
			return false, fmt.Errorf("new: %s was created, but 'go %s' could not resolve %s (%s): %s", dir, strings.Join(args, " "), src, dash(last), hint)
		}
	}
	return true, nil
}

const mainTemplate = `// Command NAME is an lhk plugin.
//
// Build and upload it with 'lhk push .', run it with
// 'lhk invoke NAME --data '{"name":"world"}''.
package main

import "github.com/lhk-soc/lhk/pdk"

// input is what the plugin reads.
type input struct {
	Name string ` + "`json:\"name\"`" + `
}

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		var in input
		if err := pdk.InputJSON(&in); err != nil {
			return err
		}
		pdk.Logf(pdk.LevelInfo, "greeting %s", in.Name)
		return pdk.OutputJSON(map[string]string{"greeting": "hello " + in.Name})
	})
}

func main() {}
`
