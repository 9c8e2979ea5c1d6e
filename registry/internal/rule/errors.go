package rule

import "github.com/lhk-soc/lhk"

// The errors both backends return for a record that is not there or is
// taken, with the same code and message.

// UserNotFound is the ENOTFOUND error for the user name.
func UserNotFound(name string) error { return lhk.Errorf(lhk.ENOTFOUND, "user %q not found", name) }

// TokenNotFound is the ENOTFOUND error for a token hash no user has.
func TokenNotFound() error { return lhk.Errorf(lhk.ENOTFOUND, "no user with that token") }

// OwnerNotFound is the ENOTFOUND error for an owner that is no user.
func OwnerNotFound(owner string) error {
	return lhk.Errorf(lhk.ENOTFOUND, "owner: user %q not found", owner)
}

// PluginNotFound is the ENOTFOUND error for the plugin name.
func PluginNotFound(name string) error {
	return lhk.Errorf(lhk.ENOTFOUND, "plugin %q not found", name)
}

// VersionNotFound is the ENOTFOUND error for version n of the plugin name.
func VersionNotFound(n int, name string) error {
	return lhk.Errorf(lhk.ENOTFOUND, "version %d of plugin %q not found", n, name)
}

// ScheduleNotFound is the ENOTFOUND error for a plugin without a schedule.
func ScheduleNotFound(name string) error {
	return lhk.Errorf(lhk.ENOTFOUND, "plugin %q has no schedule", name)
}

// WebhookNotFound is the ENOTFOUND error for a plugin without a webhook
// secret, or no such plugin.
func WebhookNotFound(plugin string) error {
	return lhk.Errorf(lhk.ENOTFOUND, "plugin %q has no webhook", plugin)
}

// InvocationNotFound is the ENOTFOUND error for the invocation id.
func InvocationNotFound(id string) error {
	return lhk.Errorf(lhk.ENOTFOUND, "invocation %q not found", id)
}

// BeforeNotFound is the EINVALID error for an InvocationFilter whose Before
// names no invocation.
func BeforeNotFound(id string) error {
	return lhk.Errorf(lhk.EINVALID, "before: invocation %q not found", id)
}

// SessionNotFound is the ENOTFOUND error for a session that is not there.
func SessionNotFound() error { return lhk.Errorf(lhk.ENOTFOUND, "no such session") }

// UserExists is the ECONFLICT error for a user name that is taken.
func UserExists(name string) error {
	return lhk.Errorf(lhk.ECONFLICT, "user %q already exists", name)
}

// TokenInUse is the ECONFLICT error for a token hash another user has.
func TokenInUse() error { return lhk.Errorf(lhk.ECONFLICT, "token already in use") }

// SessionInUse is the ECONFLICT error for a session id hash that is taken.
func SessionInUse() error { return lhk.Errorf(lhk.ECONFLICT, "session id already in use") }
