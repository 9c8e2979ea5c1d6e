// Package notify implements lhk.NotifyService with webhooks: each named
// channel is a URL that receives a POST per notification, either lhk's
// generic JSON or a Slack-compatible incoming-webhook payload.
//
// Channel URLs often carry a secret token in their path (Slack's do), so
// they never appear in errors: a failure names the channel and what went
// wrong, not where it was sent.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lhk-soc/lhk"
)

var _ lhk.NotifyService = (*Service)(nil)

// Payload formats of a channel.
const (
	FormatJSON  = "json"  // lhk.Notification as JSON plus "sent_at"
	FormatSlack = "slack" // a Slack incoming-webhook message
)

// Limits of a notification, in bytes.
const (
	MaxTitle      = 256
	MaxText       = 16 << 10
	MaxFields     = 32
	MaxFieldKey   = 128
	MaxFieldValue = 1 << 10
	MaxName       = 64 // a channel's name
)

// Timeout bounds one delivery, connection and response included.
const Timeout = 10 * time.Second

// Channel is where a named channel's notifications go.
type Channel struct {
	URL    string `json:"url"`    // http or https
	Format string `json:"format"` // FormatJSON (the default when empty) or FormatSlack
}

// Service sends notifications to configured channels. It is safe for
// concurrent use.
type Service struct {
	channels map[string]Channel
	client   *http.Client
	now      func() time.Time
}

// New returns a Service for channels. A nil client means a default one; in
// either case deliveries time out after Timeout and do not follow redirects
// (a webhook that redirects is a misconfiguration, reported as EUNAVAILABLE).
// Channel names and URLs are checked: EINVALID names what to fix.
func New(channels map[string]Channel, client *http.Client) (*Service, error) {
	s := &Service{channels: make(map[string]Channel, len(channels)), now: func() time.Time { return time.Now().UTC() }}
	for name, ch := range channels {
		if err := checkName(name); err != nil {
			return nil, err
		}
		ch, err := checkChannel(name, ch)
		if err != nil {
			return nil, err
		}
		s.channels[name] = ch
	}
	c := &http.Client{}
	if client != nil {
		cp := *client
		c = &cp
	}
	if c.Timeout <= 0 || c.Timeout > Timeout {
		c.Timeout = Timeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.client = c
	return s, nil
}

// ParseChannel reads a channel from a flag value: NAME=URL for the generic
// JSON format, NAME=slack+URL for Slack, NAME=json+URL to be explicit. For
// example `--notify soc=slack+https://hooks.slack.com/services/T/B/X`.
func ParseChannel(s string) (string, Channel, error) {
	name, rest, ok := strings.Cut(s, "=")
	if !ok {
		return "", Channel{}, lhk.Errorf(lhk.EINVALID, "notify channel must look like NAME=URL or NAME=slack+URL")
	}
	if err := checkName(name); err != nil {
		return "", Channel{}, err
	}
	ch := Channel{Format: FormatJSON, URL: rest}
	for _, f := range []string{FormatJSON, FormatSlack} {
		if u, ok := strings.CutPrefix(rest, f+"+"); ok {
			ch = Channel{Format: f, URL: u}
		}
	}
	ch, err := checkChannel(name, ch)
	if err != nil {
		return "", Channel{}, err
	}
	return name, ch, nil
}

// checkName validates a channel name: 1–MaxName letters, digits, '-', '_'
// or '.'.
func checkName(name string) error {
	if name == "" || len(name) > MaxName || strings.IndexFunc(name, func(r rune) bool {
		return !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.'))
	}) >= 0 {
		return lhk.Errorf(lhk.EINVALID, "notify channel name %q must be 1 to %d ASCII letters, digits, '-', '_' or '.'", short(name), MaxName)
	}
	return nil
}

// checkChannel validates a channel's format and URL, defaulting the format.
// The URL is not echoed: it may hold a secret.
func checkChannel(name string, ch Channel) (Channel, error) {
	if ch.Format == "" {
		ch.Format = FormatJSON
	}
	if ch.Format != FormatJSON && ch.Format != FormatSlack {
		return ch, lhk.Errorf(lhk.EINVALID, "notify channel %q: unknown format %q, use json or slack", name, short(ch.Format))
	}
	u, err := url.Parse(ch.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ch, lhk.Errorf(lhk.EINVALID, "notify channel %q: the URL must be an absolute http or https URL", name)
	}
	return ch, nil
}

// Channels lists the configured channel names, sorted.
func (s *Service) Channels() []string {
	names := make([]string, 0, len(s.channels))
	for n := range s.channels {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// severities a notification may carry ("" for none).
var severities = []string{"", "info", lhk.SeverityLow, lhk.SeverityMedium, lhk.SeverityHigh, lhk.SeverityCritical}

// check validates n against the limits.
func check(n *lhk.Notification) error {
	switch {
	case strings.TrimSpace(n.Title) == "" && strings.TrimSpace(n.Text) == "":
		return lhk.Errorf(lhk.EINVALID, "a notification needs a title or a text")
	case len(n.Title) > MaxTitle:
		return lhk.Errorf(lhk.EINVALID, "title is %d bytes, at most %d allowed", len(n.Title), MaxTitle)
	case len(n.Text) > MaxText:
		return lhk.Errorf(lhk.EINVALID, "text is %d bytes, at most %d allowed", len(n.Text), MaxText)
	case !utf8.ValidString(n.Title) || !utf8.ValidString(n.Text):
		return lhk.Errorf(lhk.EINVALID, "title and text must be valid UTF-8")
	case !slices.Contains(severities, n.Severity):
		return lhk.Errorf(lhk.EINVALID, "unknown severity %q, use info, low, medium, high or critical", short(n.Severity))
	case len(n.Fields) > MaxFields:
		return lhk.Errorf(lhk.EINVALID, "a notification has at most %d fields, got %d", MaxFields, len(n.Fields))
	case len(n.Tenant) > 128 || !utf8.ValidString(n.Tenant):
		return lhk.Errorf(lhk.EINVALID, "tenant must be valid UTF-8 of at most 128 bytes")
	}
	for k, v := range n.Fields {
		switch {
		case k == "" || len(k) > MaxFieldKey || !utf8.ValidString(k):
			return lhk.Errorf(lhk.EINVALID, "field name %q must be 1 to %d bytes of UTF-8", short(k), MaxFieldKey)
		case len(v) > MaxFieldValue || !utf8.ValidString(v):
			return lhk.Errorf(lhk.EINVALID, "field %q: the value must be UTF-8 of at most %d bytes", short(k), MaxFieldValue)
		}
	}
	return nil
}

// Notify delivers n to its channel with one POST. ENOTFOUND names the
// configured channels when n.Channel is not one; EINVALID when n breaks a
// limit; EUNAVAILABLE when the receiver cannot be reached, times out or
// answers other than 2xx (with its status).
func (s *Service) Notify(ctx context.Context, n lhk.Notification) error {
	ch, ok := s.channels[n.Channel]
	if !ok {
		if len(s.channels) == 0 {
			return lhk.Errorf(lhk.ENOTFOUND, "unknown notify channel %q: none are configured (lhkd --notify NAME=URL)", short(n.Channel))
		}
		return lhk.Errorf(lhk.ENOTFOUND, "unknown notify channel %q, use one of: %s", short(n.Channel), strings.Join(s.Channels(), ", "))
	}
	if err := check(&n); err != nil {
		return err
	}
	if n.Fields == nil {
		n.Fields = map[string]string{}
	}
	var body any
	switch ch.Format {
	case FormatSlack:
		body = slackMessage(n)
	default:
		body = jsonMessage{Notification: n, SentAt: s.now()}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode notification: %w", err)
	}
	return s.post(ctx, n.Channel, ch.URL, b)
}

// post sends one payload. Errors never include the URL.
func (s *Service) post(ctx context.Context, name, u string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return lhk.Errorf(lhk.EINVALID, "notify channel %q: the URL is not usable", name)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "lhk-notify")
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error's text holds the URL
		}
		what := "could not deliver"
		if errors.Is(err, context.DeadlineExceeded) || (ue != nil && ue.Timeout()) {
			what = fmt.Sprintf("timed out (%s)", Timeout)
		} else if errors.Is(err, context.Canceled) {
			what = "canceled"
		}
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.EUNAVAILABLE, "notify channel %q: %s", name, what), redact(err, u))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return lhk.Errorf(lhk.EUNAVAILABLE, "notify channel %q: the receiver answered HTTP %d", name, resp.StatusCode)
	}
	return nil
}

// redact replaces any occurrence of the URL (or its path and query) in err's
// text, so wrapped transport errors cannot leak a token into logs.
func redact(err error, u string) error {
	msg := err.Error()
	secrets := []string{u}
	if p, perr := url.Parse(u); perr == nil {
		if p.RawQuery != "" {
			secrets = append(secrets, p.RawQuery)
		}
		if len(p.Path) > 1 {
			secrets = append(secrets, p.Path)
		}
	}
	changed := false
	for _, sec := range secrets {
		if strings.Contains(msg, sec) {
			msg, changed = strings.ReplaceAll(msg, sec, "[redacted]"), true
		}
	}
	if !changed {
		return err
	}
	return errors.New(msg)
}

// jsonMessage is the generic payload: the notification and when it was sent.
type jsonMessage struct {
	lhk.Notification
	SentAt time.Time `json:"sent_at"`
}

// slackPayload is a Slack incoming-webhook message with a legacy attachment
// for the fields, which every Slack-compatible receiver (Mattermost,
// Rocket.Chat…) also understands.
type slackPayload struct {
	Text        string            `json:"text"`
	Attachments []slackAttachment `json:"attachments,omitempty"`
}

type slackAttachment struct {
	Color    string       `json:"color,omitempty"`
	Fallback string       `json:"fallback"`
	Fields   []slackField `json:"fields"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// slackColors maps severities to attachment colours.
var slackColors = map[string]string{
	"info": "#439FE0", lhk.SeverityLow: "#2EB886", lhk.SeverityMedium: "#DAA038",
	lhk.SeverityHigh: "#E01E5A", lhk.SeverityCritical: "#8B0000",
}

// slackEscape escapes the three characters Slack treats as markup, so text
// from logs cannot ping @channel or forge links.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackMessage builds the Slack payload of n: "*title*\ntext", with tenant,
// severity and the fields (sorted by name) as attachment fields.
func slackMessage(n lhk.Notification) slackPayload {
	var parts []string
	if t := strings.TrimSpace(n.Title); t != "" {
		parts = append(parts, "*"+slackEscape(t)+"*")
	}
	if n.Text != "" {
		parts = append(parts, slackEscape(n.Text))
	}
	p := slackPayload{Text: strings.Join(parts, "\n")}
	var fields []slackField
	if n.Tenant != "" {
		fields = append(fields, slackField{Title: "tenant", Value: slackEscape(n.Tenant), Short: true})
	}
	if n.Severity != "" {
		fields = append(fields, slackField{Title: "severity", Value: n.Severity, Short: true})
	}
	keys := make([]string, 0, len(n.Fields))
	for k := range n.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := n.Fields[k]
		fields = append(fields, slackField{Title: slackEscape(k), Value: slackEscape(v), Short: len(v) <= 40})
	}
	if len(fields) > 0 {
		p.Attachments = []slackAttachment{{Color: slackColors[n.Severity], Fallback: p.Text, Fields: fields}}
	}
	return p
}

// short cuts s to 64 bytes for an error message.
func short(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
