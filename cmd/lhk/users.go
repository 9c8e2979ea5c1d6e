package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// ceilingJSON bounds what a user may grant their plugins and use over HTTP.
type ceilingJSON struct {
	Capabilities []string `json:"capabilities"`
	Tenants      []string `json:"tenants"`
}

type userJSON struct {
	Name      string      `json:"name"`
	Role      string      `json:"role"`
	Ceiling   ceilingJSON `json:"ceiling"`
	CreatedAt time.Time   `json:"created_at"`
}

// tokenAnswer is the answer of user create and user token: the token, shown once.
type tokenAnswer struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Token string `json:"token"`
}

var roles = []string{"admin", "analyst", "viewer"}

// ceilingString shows a user's ceiling for people.
func ceilingString(u userJSON) string {
	if u.Role == "admin" {
		return "everything (admin)"
	}
	return fmt.Sprintf("capabilities %s; tenants %s", list(u.Ceiling.Capabilities), list(u.Ceiling.Tenants))
}

func (a *app) whoamiCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show the server, the user the token belongs to and their ceiling",
		Long: `whoami asks GET /v1/users/me who the token belongs to. The ceiling is what
the user may grant their plugins and use of the systems over HTTP.`,
		Example: `  lhk whoami
  lhk whoami -o json`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var me userJSON
			raw, err := c.json(cmd.Context(), "GET", "/v1/users/me", nil, &me)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			fmt.Fprintf(a.stdout, "%s (%s) on %s\nceiling: %s\n", me.Name, me.Role, c.server, ceilingString(me))
			return nil
		},
	}
}

func (a *app) usersCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "users",
		Short:   "List users with their roles and ceilings (admin)",
		Example: `  lhk users`,
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var ans struct {
				Users []userJSON `json:"users"`
			}
			raw, err := c.json(cmd.Context(), "GET", "/v1/users", nil, &ans)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout, "NAME", "ROLE", "CAPABILITIES", "TENANTS", "CREATED")
			for _, u := range ans.Users {
				caps, tenants := list(u.Ceiling.Capabilities), list(u.Ceiling.Tenants)
				if u.Role == "admin" {
					caps, tenants = "*", "*"
				}
				t.row(u.Name, u.Role, shorten(caps, 60), shorten(tenants, 40), ago(u.CreatedAt))
			}
			return t.flush()
		},
	}
}

func (a *app) userCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Create a user, change their role and ceiling, or renew a token",
	}
	var role string
	var caps, tenants []string
	create := &cobra.Command{
		Use:   "create NAME --role ROLE [--cap CAP…] [--tenant TENANT…]",
		Short: "Create a user and print their token once (admin)",
		Long: `create adds a user with a role (admin, analyst or viewer) and, optionally, a
ceiling: the capabilities and tenants they may grant their plugins and use over
HTTP. The new token is printed once, alone on standard output, so that
  TOKEN=$(lhk user create bob --role analyst)
keeps it out of the terminal; lhkd stores only its hash.`,
		Example: `  lhk user create bob --role analyst --cap logs.read,tickets.write --tenant acme`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			body := map[string]any{"name": argv[0], "role": role}
			if cmd.Flags().Changed("cap") || cmd.Flags().Changed("tenant") {
				body["ceiling"] = ceilingJSON{Capabilities: nonNil(caps), Tenants: nonNil(tenants)}
			}
			var ans tokenAnswer
			raw, err := c.json(cmd.Context(), "POST", "/v1/users", body, &ans)
			if err != nil {
				return err
			}
			a.secrets = append(a.secrets, ans.Token)
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			a.notef("user %s (%s) created; its token follows, shown only this once\n", ans.Name, ans.Role)
			_, err = fmt.Fprintln(a.stdout, ans.Token)
			return err
		},
	}
	create.Flags().StringVar(&role, "role", "", "admin, analyst or viewer (required)")
	create.Flags().StringSliceVar(&caps, "cap", nil, "capability of the ceiling (repeatable)")
	create.Flags().StringSliceVar(&tenants, "tenant", nil, "tenant of the ceiling, or * (repeatable)")
	_ = create.MarkFlagRequired("role")
	a.completeRoleCapFlags(create)

	var setRole string
	var setCaps, setTenants []string
	set := &cobra.Command{
		Use:   "set NAME [--role ROLE] [--cap CAP…] [--tenant TENANT…]",
		Short: "Change a user's role or ceiling (admin)",
		Long: `set changes a user's role and ceiling with PATCH /v1/users/NAME. --cap and
--tenant replace that half of the ceiling and keep the other; --cap= (empty)
clears the capabilities. The last admin cannot be demoted.`,
		Example: `  lhk user set bob --cap logs.read,tickets.read,tickets.write --tenant acme,globex
  lhk user set bob --role viewer`,
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completeUsers,
		RunE: func(cmd *cobra.Command, argv []string) error {
			f := cmd.Flags()
			if !f.Changed("role") && !f.Changed("cap") && !f.Changed("tenant") {
				return usageErrorf("user set: give --role, --cap or --tenant")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			body := map[string]any{}
			if f.Changed("role") {
				body["role"] = setRole
			}
			if f.Changed("cap") || f.Changed("tenant") {
				cur, err := a.findUser(cmd, c, argv[0])
				if err != nil {
					return err
				}
				cl := ceilingJSON{Capabilities: nonNil(cur.Ceiling.Capabilities), Tenants: nonNil(cur.Ceiling.Tenants)}
				if f.Changed("cap") {
					cl.Capabilities = nonNil(setCaps)
				}
				if f.Changed("tenant") {
					cl.Tenants = nonNil(setTenants)
				}
				body["ceiling"] = cl
			}
			var u userJSON
			raw, err := c.json(cmd.Context(), "PATCH", "/v1/users/"+pathEscape(argv[0]), body, &u)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			fmt.Fprintf(a.stdout, "user %s (%s): ceiling %s\n", u.Name, u.Role, ceilingString(u))
			return nil
		},
	}
	set.Flags().StringVar(&setRole, "role", "", "admin, analyst or viewer")
	set.Flags().StringSliceVar(&setCaps, "cap", nil, "capabilities of the ceiling (repeatable; replaces them)")
	set.Flags().StringSliceVar(&setTenants, "tenant", nil, "tenants of the ceiling, or * (repeatable; replaces them)")
	a.completeRoleCapFlags(set)

	cmd.AddCommand(create, set, a.userTokenCommand())
	return cmd
}

func (a *app) completeRoleCapFlags(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("role", cobra.FixedCompletions(roles, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("cap", cobra.FixedCompletions(capabilities, cobra.ShellCompDirectiveNoFileComp))
}

// findUser reads one user with GET /v1/users/NAME.
func (a *app) findUser(cmd *cobra.Command, c *client, name string) (userJSON, error) {
	var u userJSON
	_, err := c.json(cmd.Context(), "GET", "/v1/users/"+pathEscape(name), nil, &u)
	return u, err
}

func (a *app) userTokenCommand() *cobra.Command {
	var save bool
	cmd := &cobra.Command{
		Use:   "token [NAME] [--save]",
		Short: "Renew a token: yours (default), or any user's (admin)",
		Long: `token renews a user's token with POST /v1/users/NAME/token; the old token
stops working at once. NAME defaults to you. The new token is printed once,
alone on standard output.

--save renews your own token and stores the new one in the context in use
instead of printing it, so lhk keeps working.`,
		Example: `  lhk user token --save             # renew your own token and keep using it
  lhk user token bob > bob.token    # an admin renews bob's`,
		Args:              args(cobra.MaximumNArgs(1)),
		ValidArgsFunction: a.completeUsers,
		RunE: func(cmd *cobra.Command, argv []string) error {
			t, err := a.target()
			if err != nil {
				return err
			}
			c := newClient(t)
			var me userJSON
			if _, err := c.json(cmd.Context(), "GET", "/v1/users/me", nil, &me); err != nil {
				return err
			}
			name := me.Name
			if len(argv) == 1 {
				name = argv[0]
			}
			var cfg *config
			if save {
				if name != me.Name {
					return usageErrorf("user token --save stores your own token; %s is not you (%s)", name, me.Name)
				}
				if t.Context == "" {
					return usageErrorf("user token --save: the token in use comes from LHK_TOKEN, not from a context; run 'lhk login' first or renew without --save")
				}
				if cfg, err = loadConfig(); err != nil {
					return err
				}
				if ctx := cfg.Contexts[t.Context]; strings.TrimRight(ctx.Server, "/") != c.server {
					return usageErrorf("user token --save: context %q is for %s, not %s", t.Context, ctx.Server, c.server)
				}
			}
			var ans tokenAnswer
			raw, err := c.json(cmd.Context(), "POST", "/v1/users/"+pathEscape(name)+"/token", nil, &ans)
			if err != nil {
				return err
			}
			a.secrets = append(a.secrets, ans.Token)
			if save {
				ctx := cfg.Contexts[t.Context]
				ctx.Token = ans.Token
				cfg.Contexts[t.Context] = ctx
				if err := cfg.save(); err != nil {
					return fmt.Errorf("the token was renewed but could not be saved (the old one no longer works; renew again or log in): %w", err)
				}
				if a.jsonOutput() {
					return a.printValue(map[string]any{"name": ans.Name, "role": ans.Role, "saved_to_context": t.Context})
				}
				fmt.Fprintf(a.stdout, "token of %s renewed and saved in context %q\n", ans.Name, t.Context)
				return nil
			}
			if name == me.Name && t.Context != "" {
				a.notef("warning: context %q still holds your old token, which no longer works; store the new one with 'lhk login' (or renew with --save)\n", t.Context)
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			a.notef("new token of %s follows, shown only this once; the old one no longer works\n", ans.Name)
			_, err = fmt.Fprintln(a.stdout, ans.Token)
			return err
		},
	}
	cmd.Flags().BoolVar(&save, "save", false, "renew your own token and store it in the context in use instead of printing it")
	return cmd
}

// completeUsers completes user names from the server (admins only).
func (a *app) completeUsers(cmd *cobra.Command, argv []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(argv) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := a.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var ans struct {
		Users []userJSON `json:"users"`
	}
	if _, err := c.json(cmd.Context(), "GET", "/v1/users", nil, &ans); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	names := make([]string, 0, len(ans.Users))
	for _, u := range ans.Users {
		names = append(names, u.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

type auditJSON struct {
	ID     int64     `json:"id"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail"`
}

func (a *app) auditCommand() *cobra.Command {
	var actor, targ string
	var limit int
	var before int64
	cmd := &cobra.Command{
		Use:   "audit [--actor USER] [--target plugin/NAME] [--limit N] [--before ID]",
		Short: "Show the audit log, newest first (admin)",
		Long: `audit lists every change to plugins, versions, grants, schedules, users and
assets with its actor, newest first. --target is what changed, e.g.
plugin/report or user/bob. Page with --before, the id of the last entry shown.`,
		Example: `  lhk audit --actor bob --limit 20
  lhk audit --target plugin/report -o json`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			b := ""
			if before > 0 {
				b = strconv.FormatInt(before, 10)
			}
			var ans struct {
				Entries []auditJSON `json:"entries"`
			}
			raw, err := c.json(cmd.Context(), "GET", "/v1/audit"+query("actor", actor, "target", targ, "limit", strconv.Itoa(limit), "before", b), nil, &ans)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout, "ID", "TIME", "ACTOR", "ACTION", "TARGET", "DETAIL")
			for _, e := range ans.Entries {
				t.row(strconv.FormatInt(e.ID, 10), ago(e.Time), e.Actor, e.Action, e.Target, shorten(dash(e.Detail), 60))
			}
			return t.flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&actor, "actor", "", "only changes by this user (or cron, webhook, system)")
	f.StringVar(&targ, "target", "", "only changes to this, e.g. plugin/report or user/bob")
	f.IntVar(&limit, "limit", 50, "at most this many (the server caps it at 1000)")
	f.Int64Var(&before, "before", 0, "only entries older than this id (paging)")
	return cmd
}

func (a *app) webhookCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "webhook NAME",
		Short: "Create or rotate a plugin's webhook secret and print it once",
		Long: `webhook creates the plugin's webhook secret, or rotates it (the old one stops
working), with POST /v1/plugins/NAME/webhook. The secret is printed once, alone
on standard output. Senders post to SERVER/hooks/NAME with the headers
  X-Lhk-Timestamp: <unix seconds>
  X-Lhk-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>
(see docs/api.md).`,
		Example:           `  lhk webhook alert-intake > alert-intake.secret`,
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completePlugins,
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var ans struct {
				Plugin string `json:"plugin"`
				Secret string `json:"secret"`
				URL    string `json:"url"`
			}
			raw, err := c.json(cmd.Context(), "POST", "/v1/plugins/"+pathEscape(argv[0])+"/webhook", nil, &ans)
			if err != nil {
				return err
			}
			a.secrets = append(a.secrets, ans.Secret)
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			a.notef("webhook secret of %s follows, shown only this once (any earlier secret no longer works); senders post to %s%s\n", ans.Plugin, c.server, ans.URL)
			_, err = fmt.Fprintln(a.stdout, ans.Secret)
			return err
		},
	}
}
