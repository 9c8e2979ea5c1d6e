// Command lhk is the analysts' command line for lhkd: log in, write, build and
// push plugins, run them, follow their runs, set schedules and grants, read
// every system of the library (and call any of its operations), and manage
// users, tokens, webhook secrets and the audit log.
//
// Exit codes scripts can rely on:
//
//	0  ok
//	1  the server refused the request, or the plugin failed or timed out
//	2  usage error: unknown command, bad or missing flag or argument
//	3  the server is unreachable
//	4  unauthorized: no token, or a wrong or revoked one
//
// Errors are one line on stderr and carry the server's message. lhk never
// prints a token.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitUnreachable = 3
	exitAuth        = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// exitError is an error with the exit code it ends lhk with.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, a...)}
}

// run is main without the process: it runs lhk with args and returns the exit
// code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	msg := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	fmt.Fprintln(stderr, "lhk: "+a.redact(msg))
	return code
}

// exitCode maps an error to lhk's exit code. Errors from cobra itself (unknown
// command, flags, argument counts, required flags) are usage errors.
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ae *apiError
	if errors.As(err, &ae) {
		if ae.Status == 401 {
			return exitAuth
		}
		return exitFailed
	}
	var ue *unreachableError
	if errors.As(err, &ue) {
		return exitUnreachable
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "required flag", "accepts ", "requires at least", "invalid argument", "flag needs an argument", "bad flag syntax"} {
		if strings.HasPrefix(msg, p) {
			return exitUsage
		}
	}
	return exitFailed
}

// app holds what every command shares: streams, the environment and the
// global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	server, contextName, output string
	quiet                       bool     // no progress or notes on stderr
	secrets                     []string // values never to print
}

// redact removes any known secret from s.
func (a *app) redact(s string) string {
	for _, t := range a.secrets {
		if t != "" {
			s = strings.ReplaceAll(s, t, "<token>")
		}
	}
	return s
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "lhk",
		Short: "The analysts' command line for lhkd",
		Long: `lhk talks to an lhkd server: push and run plugins, follow their runs, set
schedules and grants, search, find and ingest logs, read the other systems,
and manage users, tokens and webhook secrets.

Start with 'lhk login --server URL --token TOKEN'. LHK_SERVER and LHK_TOKEN
override the stored context.

Exit codes: 0 ok, 1 server refused or plugin failed, 2 usage error,
3 server unreachable, 4 unauthorized.`,
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if a.output != "table" && a.output != "json" {
				return usageErrorf("-o %q: use table or json", a.output)
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, msg: err.Error()}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.server, "server", "", "lhkd URL (overrides LHK_SERVER and the context)")
	pf.StringVar(&a.contextName, "context", "", "named context from 'lhk login' to use")
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "no progress or notes on standard error (errors still show)")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("context", a.completeContexts)

	root.AddGroup(&cobra.Group{ID: "plugins", Title: "Plugins:"}, &cobra.Group{ID: "runs", Title: "Runs:"},
		&cobra.Group{ID: "systems", Title: "Systems:"}, &cobra.Group{ID: "admin", Title: "Users and audit:"}, &cobra.Group{ID: "setup", Title: "Setup:"})
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("setup", a.loginCommand(), a.whoamiCommand(), a.contextCommand())
	add("plugins", a.pluginsCommand(), a.pluginCommand(), a.pushCommand(), a.newCommand(), a.buildCommand(), a.scheduleCommand(), a.webhookCommand())
	add("runs", a.invokeCommand(), a.runsCommand(), a.runCommand())
	add("systems", a.logsCommand(), a.filtersCommand(), a.ticketsCommand(), a.ticketCommand(), a.assetsCommand(), a.assetCommand(),
		a.endpointsCommand(), a.reportsCommand(), a.reportCommand(), a.kvCommand(), a.ceilingCommand(), a.callCommand())
	add("admin", a.usersCommand(), a.userCommand(), a.auditCommand())
	root.SetCompletionCommandGroupID("setup")
	root.SetHelpCommandGroupID("setup")
	return root
}

// args wraps a cobra argument check so that its errors are usage errors.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return &exitError{code: exitUsage, msg: cmd.CommandPath() + ": " + err.Error()}
		}
		return nil
	}
}
