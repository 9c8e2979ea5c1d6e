package host

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	extism "github.com/extism/go-sdk"

	"github.com/lhk-soc/lhk"
)

// maxLineBytes cuts longer log lines; the rest of the line is dropped.
const maxLineBytes = 16 << 10

// collector gathers the log lines of one call, up to max of them.
type collector struct {
	max     int
	lines   []lhk.LogLine
	dropped int
}

func newCollector(max int) *collector { return &collector{max: max} }

func (c *collector) add(level, msg string) {
	if len(c.lines) >= c.max {
		c.dropped++
		return
	}
	if len(msg) > maxLineBytes {
		msg = msg[:maxLineBytes] + " … (line cut)"
	}
	c.lines = append(c.lines, lhk.LogLine{Time: time.Now(), Level: level, Message: msg})
}

// finish returns the lines, with a last one saying how many were dropped.
func (c *collector) finish() []lhk.LogLine {
	if c.dropped > 0 {
		c.lines = append(c.lines, lhk.LogLine{
			Time:    time.Now(),
			Level:   "lhk",
			Message: fmt.Sprintf("%d more log lines dropped (max_log_lines is %d)", c.dropped, c.max),
		})
	}
	return c.lines
}

// sdkMessages are the SDK's own debug and trace messages, logged through a
// plugin's logger during CallWithContext; they are not the plugin's.
var sdkMessages = []string{
	"Calling function : ",
	"Initializing runtime for ",
	"Calling _initialize",
	"Calling __wasm_call_ctors",
	"Calling hs_init",
	"Initialized Haskell language runtime.",
	"Error running reactor _initialize: ",
}

// logExtism receives the plugin's Extism log calls.
func (in *instance) logExtism(level extism.LogLevel, msg string) {
	if in.logs == nil {
		return
	}
	if in.sdkCall && (level == extism.LogLevelDebug || level == extism.LogLevelTrace) {
		for _, p := range sdkMessages {
			if strings.HasPrefix(msg, p) {
				return
			}
		}
	}
	in.logs.add(levelName(level), msg)
}

func levelName(l extism.LogLevel) string {
	switch l {
	case extism.LogLevelTrace:
		return "trace"
	case extism.LogLevelDebug:
		return "debug"
	case extism.LogLevelInfo:
		return "info"
	case extism.LogLevelWarn:
		return "warn"
	}
	return "error"
}

// lineWriter turns a WASI output stream of an instance into log lines of the
// call in progress. Output between calls is dropped.
type lineWriter struct {
	in    *instance
	level string
	buf   []byte
	// keepTail keeps what explains a non-zero exit or a trap, beyond the
	// log cap: the first Go "panic:" or "fatal error:" line of the call and
	// the last other line.
	keepTail bool
	crash    string
	last     string
}

// Write implements io.Writer; it never fails.
func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxLineBytes - len(w.buf)
			if len(p) > room {
				w.buf = append(w.buf, p[:room]...)
				w.emit()
				p = p[room:]
				continue
			}
			w.buf = append(w.buf, p...)
			break
		}
		w.buf = append(w.buf, p[:i]...)
		w.emit()
		p = p[i+1:]
	}
	return n, nil
}

// flush emits a last line without a newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.emit()
	}
}

func (w *lineWriter) emit() {
	line := strings.TrimRight(string(w.buf), "\r")
	w.buf = w.buf[:0]
	if len(line) > maxLineBytes {
		line = line[:maxLineBytes]
	}
	if w.keepTail {
		t := strings.TrimSpace(line)
		switch {
		case isCrashLine(t):
			if w.crash == "" {
				w.crash = t
			}
		case t != "" && !strings.HasPrefix(line, "\t") && !strings.HasPrefix(t, "goroutine "):
			w.last = t
		}
	}
	if w.in.logs != nil {
		w.in.logs.add(w.level, line)
	}
}

// reason returns the line of the call's stream that best explains a crash:
// a Go "panic:" or "fatal error:" line, else the last line.
func (w *lineWriter) reason() string {
	if w.crash != "" {
		return w.crash
	}
	return w.last
}

// reset forgets the previous call's lines.
func (w *lineWriter) reset() {
	w.buf = w.buf[:0]
	w.crash, w.last = "", ""
}

// isCrashLine reports whether line is how a Go guest announces a crash.
func isCrashLine(line string) bool {
	return strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ")
}
