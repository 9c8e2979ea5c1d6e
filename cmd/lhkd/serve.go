package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/host"
	"github.com/lhk-soc/lhk/hostfuncs"
	"github.com/lhk-soc/lhk/httpapi"
	"github.com/lhk-soc/lhk/invoke"
	"github.com/lhk-soc/lhk/metrics"
	"github.com/lhk-soc/lhk/systems/endpoints"
	"github.com/lhk-soc/lhk/systems/notify"
	"github.com/lhk-soc/lhk/trigger/cron"
	"github.com/lhk-soc/lhk/ui"
)

// daemon is one running lhkd: its stores, runtime, scheduler and HTTP server.
type daemon struct {
	log     *slog.Logger
	db      registryStore
	logs    logStore
	state   stateStore
	cluster cluster // nil on a single node
	replica string  // this process's name when cluster is set
	// replicaTimeout: see config.ReplicaTimeout.
	replicaTimeout time.Duration
	rt             *host.Runtime
	recorder       *invoke.Recorder
	invoker        *invoke.Service
	sched          *cron.Scheduler
	api            *httpapi.Server
	ln             net.Listener
	srv            *http.Server

	// Operations (ops.go).
	metrics      *metrics.Metrics
	metricsLn    net.Listener // --metrics-listen, or nil
	metricsSrv   *http.Server
	draining     atomic.Bool
	drainTimeout time.Duration
	// notReady, when set before serving, gives a reason for /readyz to
	// answer 503 while it is not "" (lhkd demo while its data loads).
	notReady func() string
}

// open builds every part of the daemon and binds the listener, but serves nothing yet.
func open(ctx context.Context, cfg config, stdout, stderr io.Writer) (*daemon, error) {
	log, err := newLogger(cfg.LogFormat, cfg.LogLevel, stderr)
	if err != nil {
		return nil, err
	}
	// The Extism SDK prints trace messages with the standard log package; keep
	// them in our log at debug level rather than on stderr.
	stdlog.SetFlags(0)
	stdlog.SetOutput(stdlogWriter{log})
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	d := &daemon{log: log, metrics: metrics.New(version), drainTimeout: cmp.Or(cfg.DrainTimeout, defaultDrainTimeout)}
	if err := d.openStores(ctx, cfg); err != nil {
		d.close(context.Background())
		return nil, err
	}
	if err := bootstrapAdmin(ctx, d.db, cfg.AdminToken, stdout); err != nil {
		d.close(context.Background())
		return nil, err
	}
	lib, err := d.openSystems(ctx, cfg)
	if err != nil {
		d.close(context.Background())
		return nil, err
	}
	ops := hostfuncs.Catalog(lib)
	d.rt, err = host.New(ctx, host.Options{
		CacheDir:    cmp.Or(cfg.CompileCache, filepath.Join(cfg.Data, "compile-cache")),
		Functions:   hostfuncs.Functions(ops),
		Logger:      log,
		IdleTimeout: cfg.IdleTimeout,
		// Observers report to the metrics (ops.go).
		ObserveHostCall: d.metrics.ObserveHostCall,
	})
	if err != nil {
		d.close(context.Background())
		return nil, fmt.Errorf("start runtime: %w", err)
	}
	d.recorder = invoke.NewRecorder(d.db, log, 50*time.Millisecond, 256)
	d.metrics.CollectRuntime(d.runtimeStats)
	d.invoker = invoke.New(d.db, d.recorder, d.rt, log, invoke.Options{Replica: d.replica, Observe: d.metrics.ObserveInvocation})
	lib.Plugins.Invoker = d.invoker
	cronOpts := []cron.Option{cron.WithObserver(d.metrics.ObserveCronTick)}
	if d.cluster != nil {
		cronOpts = append(cronOpts, cron.WithCluster(d.cluster, d.db, d.replica))
	}
	d.sched = cron.New(d.invoker, d.db, log, cronOpts...)
	d.api = httpapi.New(httpapi.Config{
		Users:       d.db,
		Plugins:     d.db,
		Invocations: d.recorder,
		Audit:       d.db,
		Webhooks:    d.db,
		Runtime:     d.rt,
		Invoker:     d.invoker,
		Scheduler:   d.sched,
		Forget:      d.invoker.Forget,
		Logger:      log,
		Functions:   hostfuncs.Functions(ops),
		Logs:        lib.Logs,
		Reports:     lib.Reports,
		Tickets:     lib.Tickets,
		Assets:      lib.Assets,
		Filters:     lib.Filters,
		// Operations (ops.go).
		Ready:          d.ready,
		Metrics:        d.mainMetrics(cfg),
		ObserveRequest: d.metrics.ObserveRequest,
		Sessions:       d.db,
		Deliveries:     d.db,
		UI:             ui.Handler(),
	})
	if d.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		d.close(context.Background())
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	if err := d.listenMetrics(cfg); err != nil {
		d.close(context.Background())
		return nil, err
	}
	d.srv = &http.Server{
		Handler:           d.api,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return d, nil
}

// URL is the base URL the daemon serves on.
func (d *daemon) URL() string { return "http://" + d.ln.Addr().String() }

// serveUntil serves until ctx ends, then drains: /readyz answers 503, cron
// starts no new run, the listener stops accepting; in-flight requests, cron
// runs and background runs finish up to the drain timeout; then invocation
// records are flushed and the stores closed.
func (d *daemon) serveUntil(ctx context.Context) error {
	if d.cluster != nil {
		// Alive before the first run is recorded, or the others' reaper
		// would take this replica's runs for a dead one's.
		if err := d.cluster.Heartbeat(ctx, d.replica); err != nil {
			d.close(context.Background())
			return fmt.Errorf("register replica %s: %w", d.replica, err)
		}
	}
	if err := d.sched.Start(ctx); err != nil {
		d.close(context.Background())
		return fmt.Errorf("start cron: %w", err)
	}
	// The follower keeps beating through the drain, so the runs still going
	// are not taken for a dead replica's, and stops before the stores close.
	fctx, stopFollowing := context.WithCancel(context.Background())
	followed := make(chan struct{})
	if d.cluster != nil {
		f := &follower{log: d.log, cl: d.cluster, replica: d.replica, invoker: d.invoker, sched: d.sched, rt: d.rt, forgetUsers: d.api.ForgetUsers, staleAfter: d.replicaTimeout}
		go func() { defer close(followed); f.run(fctx) }()
	} else {
		close(followed)
	}
	stopFollower := func() { stopFollowing(); <-followed }
	defer stopFollower()
	errc := make(chan error, 1)
	go func() { errc <- d.srv.Serve(d.ln) }()
	d.serveMetrics()
	d.log.Info("lhkd serving", "url", d.URL(), "replica", d.replica)
	select {
	case err := <-errc:
		stopFollower()
		d.close(context.Background())
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	d.startDraining()
	drained := time.Now()
	dctx, cancel := context.WithTimeout(context.Background(), d.drainTimeout)
	defer cancel()
	// Cron stops starting runs at once; its running ones finish alongside
	// the in-flight requests.
	cronStopped := make(chan error, 1)
	go func() { cronStopped <- d.sched.Stop(dctx) }()
	if err := d.srv.Shutdown(dctx); err != nil {
		// Past the deadline: cut the connections left, which cancels their
		// requests and so the invocations they wait for.
		d.log.Warn("HTTP drain incomplete: closing the connections left", "err", err)
		_ = d.srv.Close()
	}
	cronErr := <-cronStopped
	d.sched = nil // stopped: close must not stop it again
	stopFollower()
	err := errors.Join(cronErr, d.close(dctx))
	d.log.Info("lhkd stopped", "drain", time.Since(drained).Round(time.Millisecond).String(), "clean", err == nil)
	return err
}

func (d *daemon) close(ctx context.Context) error {
	var errs []error
	if d.sched != nil {
		errs = append(errs, d.sched.Stop(ctx))
	}
	if d.invoker != nil {
		errs = append(errs, d.invoker.Close(ctx))
	}
	if d.recorder != nil {
		errs = append(errs, d.recorder.Close(context.Background()))
	}
	if d.rt != nil {
		errs = append(errs, d.rt.Close(context.Background()))
	}
	if d.logs != nil {
		errs = append(errs, d.logs.Close())
	}
	if d.state != nil {
		errs = append(errs, d.state.Close())
	}
	if d.db != nil {
		errs = append(errs, d.db.Close())
	}
	d.closeMetrics()
	return errors.Join(errs...)
}

func serve(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	d, err := open(ctx, cfg, stdout, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "lhkd listening on %s\n", d.URL())
	return d.serveUntil(ctx)
}

// openSystems builds the library over the opened stores.
func (d *daemon) openSystems(ctx context.Context, cfg config) (hostfuncs.Systems, error) {
	channels := map[string]notify.Channel{}
	for _, v := range cfg.Notify {
		name, ch, err := notify.ParseChannel(strings.TrimSpace(v))
		if err != nil {
			return hostfuncs.Systems{}, fmt.Errorf("--notify: %w", err)
		}
		channels[name] = ch
	}
	client := &http.Client{Timeout: 10 * time.Second}
	notifier, err := notify.New(channels, client)
	if err != nil {
		return hostfuncs.Systems{}, fmt.Errorf("--notify: %w", err)
	}
	return hostfuncs.Systems{
		Logs:      d.logs,
		Filters:   d.state,
		Tickets:   d.state,
		Assets:    d.state,
		Endpoints: endpoints.New(d.logs, d.db, cfg.IsolateWebhook, client),
		Reports:   d.state,
		KV:        d.state,
		Notify:    notifier,
		Plugins:   &hostfuncs.PluginStarter{},
	}, nil
}

// bootstrapAdmin creates user admin when there are no users. The token comes
// from LHK_ADMIN_TOKEN or is generated and printed once to stdout (not to the log).
func bootstrapAdmin(ctx context.Context, db lhk.UserStore, token string, stdout io.Writer) error {
	users, err := db.Users(ctx)
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	if len(users) > 0 {
		return nil
	}
	generated := token == ""
	if generated {
		token = lhk.NewToken()
	}
	ctx = lhk.NewContextWithActor(ctx, "lhkd")
	u := &lhk.User{Name: "admin", Role: lhk.RoleAdmin, Ceiling: lhk.Ceiling{Capabilities: lhk.Capabilities, Tenants: []string{"*"}}}
	if err := db.CreateUser(ctx, u, lhk.TokenHash(token)); err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	if generated {
		fmt.Fprintf(stdout, "created user admin with token %s\n(shown once; set LHK_ADMIN_TOKEN at first start to choose it)\n", token)
	} else {
		fmt.Fprintln(stdout, "created user admin with the configured token")
	}
	return nil
}

// stdlogWriter turns lines of the standard log package into debug records.
type stdlogWriter struct{ log *slog.Logger }

func (w stdlogWriter) Write(p []byte) (int, error) {
	w.log.Debug(strings.TrimSpace(string(p)), "source", "stdlog")
	return len(p), nil
}
