// Command lhkd is the lhk daemon: it keeps the registry of plugins, runs them in
// a WebAssembly sandbox on demand over HTTP, from webhooks and on cron, and
// serves the HTTP API.
//
// Usage:
//
//	lhkd [serve] [--listen ADDR] [--data DIR] [--db URL] [--metrics-listen ADDR]
//	             [--drain-timeout D] [--log-format text|json] [--log-level L]
//	lhkd demo    [--listen ADDR] [--data DIR]
//	lhkd ingest  [--data DIR] [--db URL] [--tenant NAME] FILE...
//	lhkd version
//
// Flags fall back to environment variables (LHK_LISTEN, LHK_DATA, LHK_DB,
// LHK_METRICS_LISTEN, LHK_DRAIN_TIMEOUT, LHK_LOG_FORMAT, LHK_LOG_LEVEL…;
// docs/operations.md has the table). LHK_ADMIN_TOKEN sets the token of user
// admin at first start; without it a token is generated and printed once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lhk-soc/lhk/host"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "lhkd:", err)
		os.Exit(1)
	}
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// run is main without the process: tests call it with their own context, args
// and writers.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseConfig("serve", args, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stdout, stderr)
	case "demo":
		cfg, err := parseConfig("demo", args, stderr)
		if err != nil {
			return err
		}
		return demo(ctx, cfg, stdout, stderr)
	case "ingest":
		return ingestFiles(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "lhkd", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

const usage = `usage:
  lhkd [serve] [--listen ADDR] [--data DIR] [--db URL]   run the daemon (lhkd serve -h: every flag)
  lhkd demo    [--listen ADDR] [--data DIR]              run with demo plugins and users
  lhkd ingest  [--data DIR] [--db URL] [--tenant NAME] FILE...
                                                         load NDJSON (or .zip of NDJSON) events into the
                                                         logs store serve uses with the same --data and --db
  lhkd version`

// config is what serve needs.
type config struct {
	Listen string
	Data   string
	DB     string
	// AdminToken, when set, is the token of user admin created at first start.
	AdminToken string
	// IdleTimeout closes pooled plugin instances unused for this long.
	IdleTimeout time.Duration
	// Notify are notification channels as NAME=URL or NAME=slack+URL.
	Notify []string
	// IsolateWebhook receives endpoint isolation requests.
	IsolateWebhook string
	// Replica names this process among replicas sharing a PostgreSQL
	// registry; empty picks the host name with a random suffix.
	Replica string
	// ReplicaTimeout is how long a replica may miss heartbeats before the
	// others mark its running invocations failed.
	ReplicaTimeout time.Duration
	// MetricsListen serves /metrics on an address of its own; "" serves it
	// on the main listener, "off" nowhere.
	MetricsListen string
	// DrainTimeout bounds how long a shutdown waits for in-flight work.
	DrainTimeout time.Duration
	// LogFormat is text or json; LogLevel debug, info, warn or error.
	LogFormat, LogLevel string
	// CompileCache holds the plugins' compiled machine code; "" is
	// compile-cache in Data. lhkd demo shares one across data directories.
	CompileCache string
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func parseConfig(name string, args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("lhkd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	defData := "./lhk-data"
	if name == "demo" {
		defData = "./lhk-demo"
	}
	var c config
	fs.StringVar(&c.Listen, "listen", envOr("LHK_LISTEN", "127.0.0.1:8080"), "address to serve HTTP on (env LHK_LISTEN)")
	fs.StringVar(&c.Data, "data", envOr("LHK_DATA", defData), "data directory: SQLite registry and compile cache (env LHK_DATA)")
	fs.StringVar(&c.DB, "db", os.Getenv("LHK_DB"), "database URL; empty means SQLite in the data directory (env LHK_DB)")
	fs.Var((*listFlag)(&c.Notify), "notify", "notification channel NAME=URL, NAME=slack+URL (repeatable; env LHK_NOTIFY, comma-separated)")
	fs.StringVar(&c.IsolateWebhook, "isolate-webhook", os.Getenv("LHK_ISOLATE_WEBHOOK"), "URL that receives endpoint isolation requests (env LHK_ISOLATE_WEBHOOK)")
	fs.StringVar(&c.Replica, "replica", os.Getenv("LHK_REPLICA"), "name of this replica when several share PostgreSQL; default: host name and a random suffix (env LHK_REPLICA)")
	fs.DurationVar(&c.ReplicaTimeout, "replica-timeout", defaultReplicaTimeout, "with PostgreSQL: a replica silent this long is dead and its running invocations are marked failed")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", host.DefaultIdleTimeout, "close a pooled plugin instance unused for this long")
	fs.StringVar(&c.MetricsListen, "metrics-listen", os.Getenv("LHK_METRICS_LISTEN"), "serve /metrics on this address instead of the main listener; \"off\" serves none (env LHK_METRICS_LISTEN)")
	drain, err := envDuration("LHK_DRAIN_TIMEOUT", defaultDrainTimeout)
	if err != nil {
		return c, err
	}
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", drain, "at shutdown, wait this long for in-flight requests and runs (env LHK_DRAIN_TIMEOUT)")
	fs.StringVar(&c.LogFormat, "log-format", envOr("LHK_LOG_FORMAT", "text"), "log format: text or json (env LHK_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", envOr("LHK_LOG_LEVEL", "info"), "log level: debug, info, warn or error (env LHK_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.DrainTimeout <= 0 {
		return c, fmt.Errorf("--drain-timeout %v: must be positive", c.DrainTimeout)
	}
	if _, err := newLogger(c.LogFormat, c.LogLevel, io.Discard); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	c.AdminToken = os.Getenv("LHK_ADMIN_TOKEN")
	if v := os.Getenv("LHK_NOTIFY"); v != "" && len(c.Notify) == 0 {
		c.Notify = strings.Split(v, ",")
	}
	return c, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
