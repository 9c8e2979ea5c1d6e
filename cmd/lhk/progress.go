package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progress shows long work (build, upload, ingest) on standard error while it
// goes: a spinner with the elapsed time, and the bytes done of the total when
// the total is known. It draws only when standard error is a terminal and
// --quiet is not given, so it never mixes with standard output, -o json or a
// log file; otherwise every method does nothing.
type progress struct {
	w     io.Writer // nil: silent
	label string
	total int64 // bytes; <= 0 when unknown
	start time.Time

	done atomic.Int64 // bytes
	note atomic.Pointer[string]

	mu      sync.Mutex // serialises drawing
	stop    chan struct{}
	stopped sync.WaitGroup
	frame   int
}

// progressInterval is how often a progress line is redrawn.
const progressInterval = 120 * time.Millisecond

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// showProgress reports whether progress may be drawn: standard error is a
// terminal that understands carriage returns, and --quiet was not given.
func (a *app) showProgress() bool {
	return !a.quiet && isTerminal(a.stderr) && a.getenv("TERM") != "dumb"
}

// startProgress starts drawing label with total bytes to do (<= 0 for a
// spinner with the elapsed time only). Call finish when the work ends.
func (a *app) startProgress(label string, total int64) *progress {
	p := &progress{label: label, total: total, start: time.Now()}
	if !a.showProgress() {
		return p
	}
	p.w = a.stderr
	p.stop = make(chan struct{})
	p.stopped.Add(1)
	go func() {
		defer p.stopped.Done()
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			p.draw()
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// add counts n more bytes done.
func (p *progress) add(n int64) { p.done.Add(n) }

// setNote shows s after the byte counts, e.g. "1200 events accepted".
func (p *progress) setNote(s string) { p.note.Store(&s) }

// reader counts the bytes read from r as done.
func (p *progress) reader(r io.Reader) io.Reader {
	if p.w == nil {
		return r
	}
	return &countingReader{r: r, p: p}
}

type countingReader struct {
	r io.Reader
	p *progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.add(int64(n))
	return n, err
}

// line is the progress line without control characters.
func (p *progress) line(spin string) string {
	var b strings.Builder
	if spin != "" {
		b.WriteString(spin + " ")
	}
	b.WriteString(p.label)
	done := p.done.Load()
	switch {
	case p.total > 0:
		pct := min(done*100/p.total, 100)
		fmt.Fprintf(&b, "  %s / %s (%d%%)", mib(min(done, p.total)), mib(p.total), pct)
	case done > 0:
		fmt.Fprintf(&b, "  %s", mib(done))
	}
	if n := p.note.Load(); n != nil && *n != "" {
		b.WriteString(", " + *n)
	}
	fmt.Fprintf(&b, "  %s", elapsed(time.Since(p.start)))
	return b.String()
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	spin := spinner[p.frame%len(spinner)]
	p.frame++
	// \r back to the start of the line, \x1b[K clears what a longer line left.
	fmt.Fprint(p.w, "\r"+p.line(spin)+"\x1b[K")
}

// finish stops drawing and clears the line.
func (p *progress) finish() {
	if p.w == nil {
		return
	}
	close(p.stop)
	p.stopped.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\x1b[K")
	p.w = nil
}

// elapsed formats a duration for a progress line.
func elapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Truncate(time.Second).String()
}

// isTerminal reports whether w is a terminal: a character device other than
// the null device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(st, null) {
		return false
	}
	return true
}
