-- 0004: the web UI. Sessions of signed-in browsers: only the hash of the
-- session id is kept, and the hash of the token it was opened with, through
-- which it finds its user (a renewed token ends its sessions).

CREATE TABLE sessions (
	id_hash    TEXT    NOT NULL PRIMARY KEY,
	token_hash TEXT    NOT NULL,
	user       TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_expires ON sessions (expires_at);

-- The UI's history filters a plugin's runs by status or trigger; with only
-- single-column indexes SQLite picked the status index for "this plugin's
-- errors" and walked every error of every plugin (12-20 ms on 100,000 runs
-- for a plugin that rarely runs; under 0.1 ms with these).
CREATE INDEX invocations_plugin_status ON invocations (plugin, status, started_at DESC, id DESC);
CREATE INDEX invocations_plugin_trigger ON invocations (plugin, trigger, started_at DESC, id DESC);

-- A plugin's newest runs without output and logs (the plugin list's
-- summaries, a plugin's history page) are read from this index alone: it
-- holds every column of a brief listing, so no row of the table is visited.
DROP INDEX invocations_plugin;
CREATE INDEX invocations_plugin ON invocations (plugin, started_at DESC, id DESC,
	version, function, trigger, caller, status, duration_ms, output_truncated, error, replica);
