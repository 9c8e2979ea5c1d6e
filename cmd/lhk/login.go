package main

import (
	"bufio"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) loginCommand() *cobra.Command {
	var server, token, name string
	cmd := &cobra.Command{
		Use:   "login --server URL --token TOKEN [--context NAME]",
		Short: "Check a server and token and store them as a named context",
		Long: `login checks the token with GET /v1/users/me and stores the server and token
as a context in the user's config directory (lhk/config.json, mode 0600), then
makes it the current one. --token - reads the token from standard input, which
keeps it out of the shell history. The context is named after the server's host
unless --context names it.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server == "" {
				server = a.server
			}
			if server == "" {
				server = a.getenv("LHK_SERVER")
			}
			if server == "" {
				return usageErrorf("login: --server URL is required")
			}
			u, err := url.Parse(server)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usageErrorf("login: --server %q: want a URL like http://127.0.0.1:8080", server)
			}
			if token == "-" {
				line, err := bufio.NewReader(a.stdin).ReadString('\n')
				if err != nil && line == "" {
					return usageErrorf("login: --token -: no token on standard input")
				}
				token = strings.TrimSpace(line)
			}
			if token == "" {
				token = a.getenv("LHK_TOKEN")
			}
			if token == "" {
				return usageErrorf("login: --token TOKEN is required (or --token - to read it from standard input)")
			}
			a.secrets = append(a.secrets, token)
			c := newClient(target{Server: server, Token: token})
			var me userJSON
			if _, err := c.json(cmd.Context(), "GET", "/v1/users/me", nil, &me); err != nil {
				return err
			}
			if name == "" {
				name = a.contextName
			}
			if name == "" {
				name = u.Host
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			cfg.Contexts[name] = contextConfig{Server: strings.TrimRight(server, "/"), Token: token, User: me.Name}
			cfg.Current = name
			if err := cfg.save(); err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printValue(map[string]string{"context": name, "server": server, "user": me.Name, "role": me.Role})
			}
			fmt.Fprintf(a.stdout, "logged in to %s as %s (%s); context %q is now current\n", server, me.Name, me.Role, name)
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "lhkd URL, e.g. http://127.0.0.1:8080")
	cmd.Flags().StringVar(&token, "token", "", "bearer token (- reads it from standard input)")
	cmd.Flags().StringVar(&name, "context", "", "name of the context to store (default: the server's host)")
	return cmd
}

func (a *app) contextCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "context",
		Short: "List the stored contexts or switch between them",
		Args:  args(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.listContexts() },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the stored contexts (servers and users; never tokens)",
		Args:  args(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.listContexts() },
	}, &cobra.Command{
		Use:               "use NAME",
		Short:             "Make a stored context the current one",
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completeContexts,
		RunE: func(cmd *cobra.Command, argv []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			if _, ok := cfg.Contexts[argv[0]]; !ok {
				return usageErrorf("no context %q; see 'lhk context list'", argv[0])
			}
			cfg.Current = argv[0]
			if err := cfg.save(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "context %q is now current\n", argv[0])
			return nil
		},
	}, &cobra.Command{
		Use:               "rm NAME",
		Short:             "Forget a stored context and its token",
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completeContexts,
		RunE: func(cmd *cobra.Command, argv []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			if _, ok := cfg.Contexts[argv[0]]; !ok {
				return usageErrorf("no context %q; see 'lhk context list'", argv[0])
			}
			delete(cfg.Contexts, argv[0])
			if cfg.Current == argv[0] {
				cfg.Current = ""
			}
			if err := cfg.save(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "context %q removed\n", argv[0])
			return nil
		},
	})
	return cmd
}

func (a *app) listContexts() error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		type ctxJSON struct {
			Name    string `json:"name"`
			Server  string `json:"server"`
			User    string `json:"user"`
			Current bool   `json:"current"`
		}
		out := []ctxJSON{}
		for _, n := range cfg.names() {
			c := cfg.Contexts[n]
			out = append(out, ctxJSON{Name: n, Server: c.Server, User: c.User, Current: n == cfg.Current})
		}
		return a.printValue(map[string]any{"contexts": out})
	}
	t := newTable(a.stdout, "CURRENT", "NAME", "SERVER", "USER")
	for _, n := range cfg.names() {
		c := cfg.Contexts[n]
		cur := ""
		if n == cfg.Current {
			cur = "*"
		}
		t.row(cur, n, c.Server, dash(c.User))
	}
	return t.flush()
}

func (a *app) completeContexts(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	return cfg.names(), cobra.ShellCompDirectiveNoFileComp
}

// completePlugins completes plugin names from the server.
func (a *app) completePlugins(cmd *cobra.Command, argv []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(argv) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := a.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var list pluginList
	if _, err := c.json(cmd.Context(), "GET", "/v1/plugins?limit=1000", nil, &list); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	names := make([]string, 0, len(list.Plugins))
	for _, p := range list.Plugins {
		names = append(names, p.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
