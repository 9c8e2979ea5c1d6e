package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// config is the file os.UserConfigDir()/lhk/config.json: named contexts, each
// a server and a token, and the one in use.
type config struct {
	Current  string                   `json:"current"`
	Contexts map[string]contextConfig `json:"contexts"`
}

type contextConfig struct {
	Server string `json:"server"`
	Token  string `json:"token"`
	User   string `json:"user,omitempty"`
}

func configPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config directory: %w", err)
	}
	return filepath.Join(dir, "lhk", "config.json"), nil
}

func loadConfig() (*config, error) {
	c := &config{Contexts: map[string]contextConfig{}}
	path, err := configPath()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	} else if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("config %s is not valid JSON: %v", path, err)
	}
	if c.Contexts == nil {
		c.Contexts = map[string]contextConfig{}
	}
	return c, nil
}

// save writes the config readable only by its owner (it holds tokens).
func (c *config) save() error {
	path, err := configPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json")
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

func (c *config) names() []string {
	names := make([]string, 0, len(c.Contexts))
	for n := range c.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// target is the server and token a command talks to, and the context the
// token comes from ("" when LHK_TOKEN gave it).
type target struct {
	Server, Token string
	Context       string
}

// target resolves the server and token: --server, then LHK_SERVER and
// LHK_TOKEN, then the context named by --context or the current one.
func (a *app) target() (target, error) {
	var t target
	cfg, err := loadConfig()
	if err != nil {
		return t, err
	}
	name := a.contextName
	if name == "" {
		name = cfg.Current
	}
	if name != "" {
		ctx, ok := cfg.Contexts[name]
		if !ok && a.contextName != "" {
			return t, usageErrorf("no context %q; see 'lhk context list'", name)
		}
		t.Server, t.Token = ctx.Server, ctx.Token
		if ok {
			t.Context = name
		}
	}
	if v := a.getenv("LHK_SERVER"); v != "" {
		t.Server = v
	}
	if v := a.getenv("LHK_TOKEN"); v != "" {
		t.Token, t.Context = v, ""
	}
	if a.server != "" {
		t.Server = a.server
	}
	if t.Server == "" {
		return t, usageErrorf("no server: run 'lhk login --server URL --token TOKEN' or set LHK_SERVER")
	}
	if t.Token == "" {
		return t, &exitError{code: exitAuth, msg: "no token: run 'lhk login' or set LHK_TOKEN"}
	}
	a.secrets = append(a.secrets, t.Token)
	return t, nil
}
