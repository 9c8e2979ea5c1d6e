package lhk

import (
	"context"
	"regexp"
	"time"
)

// Plugin is a named unit of automation with one owner and many versions, one of
// which is current.
type Plugin struct {
	Name           string            `json:"name"`
	Owner          string            `json:"owner"`
	Description    string            `json:"description"`
	Entrypoint     string            `json:"entrypoint"`
	CurrentVersion int               `json:"current_version"`
	Config         map[string]string `json:"config"`
	Limits
	Grant     Grant     `json:"grant"`
	Schedule  *Schedule `json:"schedule"`
	Versions  []Version `json:"versions"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Current returns the current version's record, or nil if there is none.
func (p *Plugin) Current() *Version {
	for i := range p.Versions {
		if p.Versions[i].Number == p.CurrentVersion {
			return &p.Versions[i]
		}
	}
	return nil
}

// DefaultEntrypoint is the export run when a plugin names no other.
const DefaultEntrypoint = "run"

var pluginNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidatePluginName returns EINVALID unless name is 1–63 lowercase letters,
// digits and dashes, starting with a letter or digit.
func ValidatePluginName(name string) error {
	if !pluginNameRE.MatchString(name) {
		return Errorf(EINVALID, "plugin name %q: use 1-63 lowercase letters, digits and dashes, starting with a letter or digit", name)
	}
	return nil
}

// Limits bound what one invocation of a plugin may use. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	TimeoutMS      int `json:"timeout_ms"`
	MemoryMB       int `json:"memory_mb"`
	MaxInputBytes  int `json:"max_input_bytes"`
	MaxOutputBytes int `json:"max_output_bytes"`
	MaxLogLines    int `json:"max_log_lines"`
	Concurrency    int `json:"concurrency"`
}

// DefaultLimits are the safe defaults for a new plugin.
var DefaultLimits = Limits{
	TimeoutMS:      30_000,
	MemoryMB:       64,
	MaxInputBytes:  1 << 20,
	MaxOutputBytes: 1 << 20,
	MaxLogLines:    1000,
	Concurrency:    8,
}

// MaxLimits are the largest limits anyone may set.
var MaxLimits = Limits{
	TimeoutMS:      15 * 60_000,
	MemoryMB:       1024,
	MaxInputBytes:  64 << 20,
	MaxOutputBytes: 64 << 20,
	MaxLogLines:    100_000,
	Concurrency:    256,
}

// WithDefaults returns l with every zero field replaced by its default.
func (l Limits) WithDefaults() Limits {
	pick := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	d := DefaultLimits
	return Limits{
		TimeoutMS:      pick(l.TimeoutMS, d.TimeoutMS),
		MemoryMB:       pick(l.MemoryMB, d.MemoryMB),
		MaxInputBytes:  pick(l.MaxInputBytes, d.MaxInputBytes),
		MaxOutputBytes: pick(l.MaxOutputBytes, d.MaxOutputBytes),
		MaxLogLines:    pick(l.MaxLogLines, d.MaxLogLines),
		Concurrency:    pick(l.Concurrency, d.Concurrency),
	}
}

// Validate returns EINVALID naming the first negative field or field over MaxLimits.
func (l Limits) Validate() error {
	check := []struct {
		name   string
		v, max int
	}{
		{"timeout_ms", l.TimeoutMS, MaxLimits.TimeoutMS},
		{"memory_mb", l.MemoryMB, MaxLimits.MemoryMB},
		{"max_input_bytes", l.MaxInputBytes, MaxLimits.MaxInputBytes},
		{"max_output_bytes", l.MaxOutputBytes, MaxLimits.MaxOutputBytes},
		{"max_log_lines", l.MaxLogLines, MaxLimits.MaxLogLines},
		{"concurrency", l.Concurrency, MaxLimits.Concurrency},
	}
	for _, c := range check {
		if c.v < 0 || c.v > c.max {
			return Errorf(EINVALID, "%s must be between 0 (default) and %d, got %d", c.name, c.max, c.v)
		}
	}
	return nil
}

// Version is one uploaded module of a plugin: immutable, numbered from 1.
type Version struct {
	Plugin     string    `json:"plugin,omitempty"`
	Number     int       `json:"version"`
	SHA256     string    `json:"sha256"`
	Size       int64     `json:"size"`
	UploadedBy string    `json:"uploaded_by"`
	UploadedAt time.Time `json:"uploaded_at"`
	Imports    []Import  `json:"imports"`
	Exports    []string  `json:"exports"`
}

// Import is one function a module imports from its host.
type Import struct {
	Module string `json:"module"`
	Name   string `json:"name"`
}

// Schedule runs a plugin's entrypoint on a cron spec in a timezone with a fixed input.
type Schedule struct {
	Cron      string    `json:"cron"`
	Timezone  string    `json:"timezone"`
	Input     string    `json:"input"`
	Enabled   bool      `json:"enabled"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Grant is what a plugin may use: capabilities, the tenants they apply to ("*" for
// all), and the hosts it may reach over outbound HTTP. Deny by default: the zero
// Grant allows nothing.
type Grant struct {
	Capabilities []string `json:"capabilities"`
	Tenants      []string `json:"tenants"`
	AllowedHosts []string `json:"allowed_hosts"`
}

// PluginUpdate is a partial change to a plugin; nil fields stay as they are.
//
// Config replaces the whole config. ConfigSet sets the keys it names and
// keeps the others, and ConfigUnset removes keys; they apply after Config,
// to the stored config in the same transaction, so two people changing
// different keys at once both keep their change.
type PluginUpdate struct {
	Description    *string            `json:"description,omitempty"`
	Entrypoint     *string            `json:"entrypoint,omitempty"`
	Config         *map[string]string `json:"config,omitempty"`
	ConfigSet      map[string]string  `json:"config_set,omitempty"`
	ConfigUnset    []string           `json:"config_unset,omitempty"`
	TimeoutMS      *int               `json:"timeout_ms,omitempty"`
	MemoryMB       *int               `json:"memory_mb,omitempty"`
	MaxInputBytes  *int               `json:"max_input_bytes,omitempty"`
	MaxOutputBytes *int               `json:"max_output_bytes,omitempty"`
	MaxLogLines    *int               `json:"max_log_lines,omitempty"`
	Concurrency    *int               `json:"concurrency,omitempty"`
	CurrentVersion *int               `json:"current_version,omitempty"`
	Owner          *string            `json:"owner,omitempty"`
}

// PluginStore keeps plugins, their immutable versions, grants and schedules.
// Every mutation writes an audit entry with ActorFromContext(ctx) in the same
// transaction, so the audit log and the registry never disagree.
type PluginStore interface {
	// CreateVersion stores wasm as the next version of v.Plugin and makes it current.
	// When the plugin does not exist it is created with owner as its owner. The
	// number, time and size are filled in v.
	CreateVersion(ctx context.Context, v *Version, wasm []byte, owner string) (*Plugin, error)
	// Plugin returns a plugin with its versions; ENOTFOUND if absent.
	Plugin(ctx context.Context, name string) (*Plugin, error)
	// Plugins lists plugins by name without their versions' wasm.
	Plugins(ctx context.Context, f PluginFilter) ([]*Plugin, error)
	// UpdatePlugin applies upd; an unknown current_version is ENOTFOUND.
	UpdatePlugin(ctx context.Context, name string, upd PluginUpdate) (*Plugin, error)
	// DeletePlugin removes a plugin, its versions, grant and schedule. History stays.
	DeletePlugin(ctx context.Context, name string) error
	// VersionWasm returns the stored module of one version.
	VersionWasm(ctx context.Context, name string, version int) ([]byte, error)
	// SetGrant replaces a plugin's grant.
	SetGrant(ctx context.Context, name string, g Grant) error
	// SetSchedule creates or replaces a plugin's schedule.
	SetSchedule(ctx context.Context, name string, s Schedule) error
	// DeleteSchedule removes a plugin's schedule; ENOTFOUND if it had none.
	DeleteSchedule(ctx context.Context, name string) error
	// Schedules returns every plugin that has a schedule, keyed by plugin name.
	Schedules(ctx context.Context) (map[string]Schedule, error)
}

// PluginFilter narrows Plugins. Zero fields match everything.
type PluginFilter struct {
	Owner string
	// Query keeps the plugins whose name contains it (names are lowercase, so
	// the match ignores case).
	Query  string
	Offset int
	Limit  int
}
