package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal: lhk gets the terminal end as its standard
// error, the test reads what it drew from the other end.
func openPTY(t *testing.T) (master, term *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		t.Skipf("unlock pseudo-terminal: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		m.Close()
		t.Skipf("pseudo-terminal number: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open pseudo-terminal: %v", err)
	}
	return m, s
}

// runTTY runs lhk with standard error on a terminal and standard output on a
// pipe. It returns standard output and what was drawn on the terminal.
func (c *cli) runTTY(stdin io.Reader, args ...string) (stdout, tty string) {
	c.t.Helper()
	master, term := openPTY(c.t)
	defer master.Close()
	cmd := exec.Command(lhkBin, args...)
	cmd.Env = append(append(cleanEnv(), "XDG_CONFIG_HOME="+c.config, "TERM=xterm"), c.env...)
	cmd.Dir = c.dir
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, term
	drawn := make(chan string)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, master) // ends with EIO once lhk and the test closed the terminal
		drawn <- b.String()
	}()
	err := cmd.Start()
	term.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		c.t.Fatalf("lhk %v: %v\nstdout: %s", args, err, out.String())
	}
	tty = <-drawn
	for _, s := range secrets {
		if strings.Contains(tty, s) || strings.Contains(out.String(), s) {
			c.t.Errorf("lhk %v printed a token", args)
		}
	}
	return out.String(), tty
}

// noSpinner removes the spinner's frames from a terminal's text.
func noSpinner(s string) string {
	for _, f := range spinner {
		s = strings.ReplaceAll(s, f+" ", "")
	}
	return s
}

func TestProgress(t *testing.T) {
	c := asAdmin(t)
	echo := filepath.Join(repoRoot, "plugins", "testdata", "echo")

	t.Run("PushBuildsAndUploads", func(t *testing.T) {
		c.t = t
		stdout, tty := c.runTTY(nil, "push", echo, "--name", "cli-progress", "-o", "json")
		var up uploadAnswer
		decodeJSON(t, stdout, &up) // standard output holds the JSON and nothing else
		if up.Plugin != "cli-progress" {
			t.Errorf("push -o json: %s", stdout)
		}
		// A spinner while it builds, then the bytes sent while it uploads;
		// each line is cleared before the next.
		want := regexp.MustCompile(`^\rbuilding echo for wasip1/wasm  [0-9.]+s\x1b\[K.*\r\x1b\[K\ruploading echo as plugin cli-progress  [0-9.]+ (B|KiB|MiB) / ` +
			regexp.QuoteMeta(mib(up.Size)) + ` \([0-9]+%\)  [0-9.]+s\x1b\[K`)
		if !want.MatchString(noSpinner(tty)) {
			t.Errorf("terminal:\n%q", tty)
		}
		if !strings.HasSuffix(tty, "\r\x1b[K") {
			t.Errorf("the progress line is not cleared at the end: %q", tty)
		}
	})
	t.Run("IngestFromStandardInput", func(t *testing.T) {
		c.t = t
		// Three batches a second apart: the line shows the bytes sent and the
		// events accepted so far while it goes.
		r, w := io.Pipe()
		go func() {
			for i := range 3 {
				ev, _ := json.Marshal(map[string]any{"@timestamp": time.Now().UTC().Format(time.RFC3339), "host.name": fmt.Sprintf("TTY-%d", i)})
				w.Write(append(ev, '\n'))
				time.Sleep(time.Second / 2)
			}
			w.Close()
		}()
		stdout, tty := c.runTTY(r, "logs", "ingest", "-", "--tenant", "cli-tty", "--batch-bytes", "1")
		if stdout != "accepted 3, rejected 0\n" {
			t.Errorf("stdout: %q", stdout)
		}
		for _, want := range []string{"ingesting standard input", "1 lines sent, 1 events accepted", "2 lines sent, 2 events accepted"} {
			if !strings.Contains(tty, want) {
				t.Errorf("terminal shows no %q:\n%q", want, tty)
			}
		}
	})
	t.Run("IngestFile", func(t *testing.T) {
		c.t = t
		file := filepath.Join(t.TempDir(), "events.ndjson")
		line := `{"@timestamp":"2026-11-01T00:00:00Z","host.name":"TTY-F"}` + "\n"
		os.WriteFile(file, []byte(line), 0o644)
		want := regexp.MustCompile(fmt.Sprintf(`ingesting events\.ndjson  [0-9]+ B / %d B \((0|100)%%\)`, len(line)))
		if _, tty := c.runTTY(nil, "logs", "ingest", file, "--tenant", "cli-tty", "-o", "json"); !want.MatchString(tty) {
			t.Errorf("terminal: %q", tty)
		}
	})
	t.Run("Quiet", func(t *testing.T) {
		c.t = t
		for _, args := range [][]string{
			{"push", echo, "--name", "cli-progress", "-q"},
			{"user", "create", "cli-progress-q", "--role", "viewer", "--quiet"},
		} {
			stdout, tty := c.runTTY(nil, args...)
			if tty != "" {
				t.Errorf("lhk %v drew on the terminal: %q", args, tty)
			}
			if args[0] == "user" {
				addSecret(strings.TrimSpace(stdout))
			}
		}
	})
	t.Run("DumbTerminal", func(t *testing.T) {
		d := newCLI(t, "LHK_SERVER="+daemonURL, "LHK_TOKEN="+adminToken, "TERM=dumb")
		if _, tty := d.runTTY(nil, "push", echo, "--name", "cli-progress"); tty != "" {
			t.Errorf("TERM=dumb: %q", tty)
		}
	})
}
