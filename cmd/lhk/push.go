package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

type uploadAnswer struct {
	Plugin               string   `json:"plugin"`
	Version              int      `json:"version"`
	SHA256               string   `json:"sha256"`
	Size                 int64    `json:"size"`
	Owner                string   `json:"owner"`
	Exports              []string `json:"exports"`
	CapabilitiesRequired []string `json:"capabilities_required"`
	CapabilitiesMissing  []string `json:"capabilities_missing"`
}

func (a *app) pushCommand() *cobra.Command {
	var name, spec, tz, input string
	cmd := &cobra.Command{
		Use:   "push [DIR|FILE.wasm] [--name NAME] [--schedule SPEC --tz ZONE]",
		Short: "Build if needed and upload a plugin as a new version",
		Long: `push uploads a WebAssembly module as the next version of plugin NAME,
creating the plugin (you become its owner) when it is new. Given a directory
(default .), it builds it first as 'lhk build' does. It prints the version and
the capabilities the module requires, and those its grant still misses.
--schedule sets (or replaces) the plugin's cron schedule after the upload.

NAME defaults to the directory's name, or the file's name without .wasm.`,
		Example: `  lhk push ./hunt --schedule "0 9 * * 1-5" --tz Asia/Tokyo
  lhk push build/report.wasm --name report`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			src := "."
			if len(argv) == 1 {
				src = argv[0]
			}
			if cmd.Flags().Changed("tz") && spec == "" {
				return usageErrorf("push: --tz needs --schedule")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			st, err := os.Stat(src)
			if err != nil {
				return usageErrorf("push: %v", err)
			}
			var wasm []byte
			if st.IsDir() {
				abs, _ := filepath.Abs(src)
				if name == "" {
					name = filepath.Base(abs)
				}
				out := filepath.Join(os.TempDir(), fmt.Sprintf("lhk-push-%d.wasm", os.Getpid()))
				defer os.Remove(out)
				if _, err := a.build(cmd.Context(), src, out); err != nil {
					return err
				}
				if wasm, err = os.ReadFile(out); err != nil {
					return err
				}
			} else {
				if name == "" {
					name = strings.TrimSuffix(filepath.Base(src), ".wasm")
				}
				if wasm, err = os.ReadFile(src); err != nil {
					return usageErrorf("push: %v", err)
				}
			}
			p := a.startProgress("uploading "+filepath.Base(src)+" as plugin "+name, int64(len(wasm)))
			var up uploadAnswer
			res, err := c.do(cmd.Context(), request{method: "POST", path: "/v1/plugins/" + pathEscape(name) + "/versions",
				body: p.reader(bytes.NewReader(wasm)), length: int64(len(wasm)), ctype: "application/wasm"})
			if err != nil {
				p.finish()
				return err
			}
			raw, err := readBody(res)
			p.finish()
			if err != nil {
				return err
			}
			if err := decode(raw, &up); err != nil {
				return err
			}
			var sched []byte
			if spec != "" {
				if sched, err = a.setSchedule(cmd.Context(), c, name, spec, tz, input, true); err != nil {
					return fmt.Errorf("version %d uploaded, but the schedule was refused: %w", up.Version, err)
				}
			}
			if a.jsonOutput() {
				if err := a.printJSON(raw); err != nil {
					return err
				}
				if sched != nil {
					return a.printJSON(sched)
				}
				return nil
			}
			fmt.Fprintf(a.stdout, "plugin %s version %d (sha256 %s, %d bytes, owner %s)\n", up.Plugin, up.Version, shortSHA(up.SHA256), up.Size, up.Owner)
			fmt.Fprintf(a.stdout, "capabilities required: %s\n", list(up.CapabilitiesRequired))
			if len(up.CapabilitiesMissing) > 0 {
				fmt.Fprintf(a.stdout, "capabilities missing:  %s (grant them: lhk plugin grant %s --cap %s --tenant …)\n", list(up.CapabilitiesMissing), up.Plugin, strings.Join(up.CapabilitiesMissing, ","))
			} else {
				fmt.Fprintln(a.stdout, "capabilities missing:  none")
			}
			if sched != nil {
				a.printScheduleAnswer(sched)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "plugin name (default: the directory's or file's name)")
	f.StringVar(&spec, "schedule", "", `cron spec to run it on, e.g. "0 9 * * 1" or @daily`)
	f.StringVar(&tz, "tz", "UTC", "IANA timezone of the schedule, e.g. Asia/Tokyo")
	f.StringVar(&input, "input", "", "input of scheduled runs")
	return cmd
}

func (a *app) buildCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "build [DIR] [-o FILE.wasm]",
		Short: "Build a Go plugin to WebAssembly",
		Long: `build runs
  GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o FILE.wasm .
in DIR (default .). FILE defaults to DIR/NAME.wasm, NAME being the directory's name.`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			dir := "."
			if len(argv) == 1 {
				dir = argv[0]
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(abs, filepath.Base(abs)+".wasm")
			}
			took, err := a.build(cmd.Context(), dir, out)
			if err != nil {
				return err
			}
			st, err := os.Stat(out)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printValue(map[string]any{"file": out, "size": st.Size(), "seconds": took.Seconds()})
			}
			fmt.Fprintf(a.stdout, "built %s (%s) in %s\n", out, mib(st.Size()), elapsed(took))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "O", "", "output file (default DIR/NAME.wasm)")
	return cmd
}

// build compiles the Go plugin in dir to out and says how long it took. On
// a terminal it shows a spinner with the elapsed time meanwhile.
func (a *app) build(ctx context.Context, dir, out string) (time.Duration, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return 0, usageErrorf("build: %s is not a directory", dir)
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return 0, err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return 0, fmt.Errorf("build: the go command is not on PATH; install Go 1.24 or later")
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return 0, err
	}
	p := a.startProgress("building "+filepath.Base(absDir)+" for wasip1/wasm", 0)
	cmd := exec.CommandContext(ctx, goBin, "build", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		p.finish()
		return 0, fmt.Errorf("build %s failed: %s", dir, dash(a.goOutput(stderr.Bytes())))
	}
	p.finish()
	return time.Since(p.start), nil
}

// goOutput shows the output of a failed go command on standard error and
// returns its last line, for the one-line error.
func (a *app) goOutput(out []byte) string {
	a.stderr.Write(out)
	last := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	return last
}
