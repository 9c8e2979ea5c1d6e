package rule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lhk-soc/lhk"
)

// MaxEntrypoint bounds an entrypoint's name in bytes.
const MaxEntrypoint = 256

// EmptyGrant is the stored grant of a new plugin.
const EmptyGrant = `{"capabilities":[],"tenants":[],"allowed_hosts":[]}`

// Upload is a version given to CreateVersion, checked, with what the backend
// stores besides the module.
type Upload struct {
	Plugin   string // the plugin's name, valid
	SHA256   string // hex SHA-256 of the module
	Size     int    // of the module, in bytes
	Uploader string // the version's UploadedBy, or the actor when it has none
	Imports  string // JSON of the version's imports, [] when none
	Exports  string // JSON of the version's exports, [] when none
}

// NewUpload checks v and wasm given to CreateVersion: a version with a valid
// plugin name, a module that is not empty and matches v.SHA256 when that is
// set (EINVALID otherwise).
func NewUpload(ctx context.Context, v *lhk.Version, wasm []byte) (*Upload, error) {
	if v == nil {
		return nil, lhk.Errorf(lhk.EINVALID, "no version given")
	}
	name := v.Plugin
	if err := lhk.ValidatePluginName(name); err != nil {
		return nil, err
	}
	if len(wasm) == 0 {
		return nil, lhk.Errorf(lhk.EINVALID, "plugin %q: empty module", name)
	}
	sum := sha256.Sum256(wasm)
	sha := hex.EncodeToString(sum[:])
	if v.SHA256 != "" && !strings.EqualFold(v.SHA256, sha) {
		return nil, lhk.Errorf(lhk.EINVALID, "plugin %q: sha256 %s does not match the module (%s)", name, v.SHA256, sha)
	}
	u := &Upload{Plugin: name, SHA256: sha, Size: len(wasm), Uploader: v.UploadedBy}
	if u.Uploader == "" {
		u.Uploader = lhk.ActorFromContext(ctx)
	}
	var err error
	if u.Imports, err = EncodeJSON(NonNil(v.Imports)); err != nil {
		return nil, fmt.Errorf("create version of %q: %w", name, err)
	}
	if u.Exports, err = EncodeJSON(NonNil(v.Exports)); err != nil {
		return nil, fmt.Errorf("create version of %q: %w", name, err)
	}
	return u, nil
}

// Detail is the detail of the version.create audit entry for the upload
// stored as version number.
func (u *Upload) Detail(number int) map[string]any {
	return map[string]any{"version": number, "sha256": u.SHA256, "size": u.Size}
}

// Fill fills in v as CreateVersion returns it once the upload is stored as
// version number at now.
func (u *Upload) Fill(v *lhk.Version, number int, now time.Time) {
	v.Plugin = u.Plugin
	v.Number = number
	v.SHA256 = u.SHA256
	v.Size = int64(u.Size)
	v.UploadedBy = u.Uploader
	v.UploadedAt = now
}

// CheckNewPlugin returns EINVALID when the plugin name, about to be created
// by its first upload, has no owner.
func CheckNewPlugin(name, owner string) error {
	if owner == "" {
		return lhk.Errorf(lhk.EINVALID, "plugin %q: a new plugin needs an owner", name)
	}
	return nil
}

// CheckUploader returns EFORBIDDEN unless uploader, whose role is role
// (empty when uploader is no user), may add a version to the existing plugin
// owned by owner: its owner or an admin may. The API checks this before it
// reads and compiles a module; CreateVersion checks it again in the writing
// transaction, because the plugin may appear or change owner meanwhile.
func CheckUploader(plugin, owner, uploader string, role lhk.Role) error {
	if uploader == owner || role == lhk.RoleAdmin {
		return nil
	}
	return lhk.Errorf(lhk.EFORBIDDEN, "plugin %q is owned by %s; only its owner or an admin may upload a version", plugin, owner)
}

// PluginCreateDetail is the detail of the plugin.create audit entry.
func PluginCreateDetail(owner string) map[string]any { return map[string]any{"owner": owner} }

// PluginDeleteDetail is the detail of the plugin.delete audit entry.
func PluginDeleteDetail(owner string, versions int) map[string]any {
	return map[string]any{"owner": owner, "versions": versions}
}

// NormPlugin replaces a read plugin's nil config and grant lists with empty
// ones and gives it an empty list of versions, to be appended to.
func NormPlugin(p *lhk.Plugin) {
	if p.Config == nil {
		p.Config = map[string]string{}
	}
	p.Grant = NormGrant(p.Grant)
	p.Versions = []lhk.Version{}
}

// NormGrant replaces nil lists with empty ones.
func NormGrant(g lhk.Grant) lhk.Grant {
	return lhk.Grant{
		Capabilities: NonNil(g.Capabilities),
		Tenants:      NonNil(g.Tenants),
		AllowedHosts: NonNil(g.AllowedHosts),
	}
}

// CheckPluginFilter returns EINVALID for a negative offset or limit.
func CheckPluginFilter(f lhk.PluginFilter) error {
	if f.Offset < 0 || f.Limit < 0 {
		return lhk.Errorf(lhk.EINVALID, "offset and limit must not be negative")
	}
	return nil
}

// HasVersion reports whether p has a version numbered n.
func HasVersion(p *lhk.Plugin, n int) bool {
	return slices.ContainsFunc(p.Versions, func(v lhk.Version) bool { return v.Number == n })
}

// UpdatePlugin applies the description, entrypoint, config and limits of upd
// to p and returns the detail of the plugin.update audit entry: each changed
// field with its old and new value, config only by the keys set and removed,
// since config may carry credentials. The detail is empty when nothing
// changed. An empty entrypoint or a zero limit restores the default; an
// entrypoint longer than MaxEntrypoint or limits outside lhk.MaxLimits are
// EINVALID. The config is upd.Config (or p's), then upd.ConfigSet's keys
// set and upd.ConfigUnset's removed. p's config map is replaced, never
// modified; current version and owner are left to the caller.
func UpdatePlugin(p *lhk.Plugin, upd lhk.PluginUpdate) (map[string]any, error) {
	detail := map[string]any{}
	if upd.Description != nil && *upd.Description != p.Description {
		detail["description"] = Change{p.Description, *upd.Description}
		p.Description = *upd.Description
	}
	if upd.Entrypoint != nil {
		e := *upd.Entrypoint
		if e == "" {
			e = lhk.DefaultEntrypoint
		}
		if len(e) > MaxEntrypoint {
			return nil, lhk.Errorf(lhk.EINVALID, "entrypoint longer than %d bytes", MaxEntrypoint)
		}
		if e != p.Entrypoint {
			detail["entrypoint"] = Change{p.Entrypoint, e}
			p.Entrypoint = e
		}
	}
	if upd.Config != nil || upd.ConfigSet != nil || upd.ConfigUnset != nil {
		c := maps.Clone(p.Config)
		if upd.Config != nil {
			c = maps.Clone(*upd.Config)
		}
		if c == nil {
			c = map[string]string{}
		}
		maps.Copy(c, upd.ConfigSet)
		for _, k := range upd.ConfigUnset {
			delete(c, k)
		}
		if d := ConfigChange(p.Config, c); d != nil {
			detail["config"] = d
			p.Config = c
		}
	}
	if err := applyLimits(&p.Limits, upd, detail); err != nil {
		return nil, err
	}
	return detail, nil
}

// ConfigChange describes a config change by keys only: values may be
// credentials and never reach the audit log. It returns nil when nothing changed.
func ConfigChange(old, c map[string]string) map[string][]string {
	var set, removed []string
	for k, v := range c {
		if ov, ok := old[k]; !ok || ov != v {
			set = append(set, k)
		}
	}
	for k := range old {
		if _, ok := c[k]; !ok {
			removed = append(removed, k)
		}
	}
	if len(set) == 0 && len(removed) == 0 {
		return nil
	}
	slices.Sort(set)
	slices.Sort(removed)
	return map[string][]string{"set": NonNil(set), "removed": NonNil(removed)}
}

// applyLimits sets the limits named in upd on l (zero restores the default),
// validates the result and records each change in detail.
func applyLimits(l *lhk.Limits, upd lhk.PluginUpdate, detail map[string]any) error {
	fields := []struct {
		name string
		v    *int
		cur  *int
		def  int
	}{
		{"timeout_ms", upd.TimeoutMS, &l.TimeoutMS, lhk.DefaultLimits.TimeoutMS},
		{"memory_mb", upd.MemoryMB, &l.MemoryMB, lhk.DefaultLimits.MemoryMB},
		{"max_input_bytes", upd.MaxInputBytes, &l.MaxInputBytes, lhk.DefaultLimits.MaxInputBytes},
		{"max_output_bytes", upd.MaxOutputBytes, &l.MaxOutputBytes, lhk.DefaultLimits.MaxOutputBytes},
		{"max_log_lines", upd.MaxLogLines, &l.MaxLogLines, lhk.DefaultLimits.MaxLogLines},
		{"concurrency", upd.Concurrency, &l.Concurrency, lhk.DefaultLimits.Concurrency},
	}
	var asked lhk.Limits
	ptrs := []*int{&asked.TimeoutMS, &asked.MemoryMB, &asked.MaxInputBytes, &asked.MaxOutputBytes, &asked.MaxLogLines, &asked.Concurrency}
	for i, f := range fields {
		if f.v != nil {
			*ptrs[i] = *f.v
		}
	}
	if err := asked.Validate(); err != nil {
		return err
	}
	for _, f := range fields {
		if f.v == nil {
			continue
		}
		to := *f.v
		if to == 0 {
			to = f.def
		}
		if to != *f.cur {
			detail[f.name] = Change{*f.cur, to}
			*f.cur = to
		}
	}
	return nil
}

// NewSchedule checks a schedule given to SetSchedule for the plugin name and
// returns it with UpdatedBy defaulted to the actor. The spec itself is
// checked by the scheduler (lhk.Scheduler.Validate) before; here an empty
// spec is EINVALID.
func NewSchedule(ctx context.Context, name string, s lhk.Schedule) (lhk.Schedule, error) {
	if strings.TrimSpace(s.Cron) == "" {
		return s, lhk.Errorf(lhk.EINVALID, "schedule of %q: empty cron spec", name)
	}
	if s.UpdatedBy == "" {
		s.UpdatedBy = lhk.ActorFromContext(ctx)
	}
	return s, nil
}

// ScheduleSetDetail is the detail of the schedule.set audit entry.
func ScheduleSetDetail(s lhk.Schedule) map[string]any {
	return map[string]any{"cron": s.Cron, "timezone": s.Timezone, "input": s.Input, "enabled": s.Enabled}
}

// ScheduleDeleteDetail is the detail of the schedule.delete audit entry.
func ScheduleDeleteDetail(cron string) map[string]any { return map[string]any{"cron": cron} }

// CheckWebhookSecret returns EINVALID for an empty webhook secret.
func CheckWebhookSecret(secret string) error {
	if secret == "" {
		return lhk.Errorf(lhk.EINVALID, "empty webhook secret")
	}
	return nil
}

// WebhookSetDetail is the detail of the webhook.set audit entry: whether an
// older secret was replaced, never the secret.
func WebhookSetDetail(rotated bool) map[string]any { return map[string]any{"rotated": rotated} }
