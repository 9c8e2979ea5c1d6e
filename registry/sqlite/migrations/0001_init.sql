-- 0001: the registry's first schema. Times are Unix nanoseconds (UTC) so they
-- sort as integers; JSON columns hold the encodings of the lhk types.

CREATE TABLE users (
	name       TEXT    NOT NULL PRIMARY KEY,
	role       TEXT    NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
	ceiling    TEXT    NOT NULL DEFAULT '{}',
	token_hash TEXT    NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE plugins (
	name             TEXT    NOT NULL PRIMARY KEY,
	owner            TEXT    NOT NULL REFERENCES users (name),
	description      TEXT    NOT NULL DEFAULT '',
	entrypoint       TEXT    NOT NULL DEFAULT 'run',
	config           TEXT    NOT NULL DEFAULT '{}',
	timeout_ms       INTEGER NOT NULL,
	memory_mb        INTEGER NOT NULL,
	max_input_bytes  INTEGER NOT NULL,
	max_output_bytes INTEGER NOT NULL,
	max_log_lines    INTEGER NOT NULL,
	concurrency      INTEGER NOT NULL,
	current_version  INTEGER NOT NULL DEFAULT 0,
	grant_json       TEXT    NOT NULL DEFAULT '{}',
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX plugins_owner ON plugins (owner, name);

-- A version's metadata; its module lives in version_wasm so that listing
-- versions never walks the overflow pages of large blobs.
CREATE TABLE versions (
	plugin      TEXT    NOT NULL REFERENCES plugins (name) ON DELETE CASCADE,
	number      INTEGER NOT NULL CHECK (number > 0),
	sha256      TEXT    NOT NULL,
	size        INTEGER NOT NULL,
	uploaded_by TEXT    NOT NULL,
	uploaded_at INTEGER NOT NULL,
	imports     TEXT    NOT NULL DEFAULT '[]',
	exports     TEXT    NOT NULL DEFAULT '[]',
	PRIMARY KEY (plugin, number)
) STRICT;

CREATE TABLE version_wasm (
	plugin TEXT    NOT NULL,
	number INTEGER NOT NULL,
	wasm   BLOB    NOT NULL,
	PRIMARY KEY (plugin, number),
	FOREIGN KEY (plugin, number) REFERENCES versions (plugin, number) ON DELETE CASCADE
) STRICT;

-- Versions are immutable: only insert and (with their plugin) delete.
CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions
BEGIN
	SELECT RAISE(ABORT, 'versions are immutable');
END;

CREATE TRIGGER version_wasm_immutable BEFORE UPDATE ON version_wasm
BEGIN
	SELECT RAISE(ABORT, 'versions are immutable');
END;

CREATE TABLE schedules (
	plugin     TEXT    NOT NULL PRIMARY KEY REFERENCES plugins (name) ON DELETE CASCADE,
	cron       TEXT    NOT NULL,
	timezone   TEXT    NOT NULL DEFAULT '',
	input      TEXT    NOT NULL DEFAULT '',
	enabled    INTEGER NOT NULL DEFAULT 1,
	updated_by TEXT    NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL
) STRICT;

-- Invocations are history: no foreign key to plugins, so deleting a plugin
-- keeps its runs.
CREATE TABLE invocations (
	id               TEXT    NOT NULL PRIMARY KEY,
	plugin           TEXT    NOT NULL,
	version          INTEGER NOT NULL DEFAULT 0,
	function         TEXT    NOT NULL DEFAULT '',
	trigger          TEXT    NOT NULL DEFAULT '',
	caller           TEXT    NOT NULL DEFAULT '',
	status           TEXT    NOT NULL,
	started_at       INTEGER NOT NULL,
	duration_ms      REAL    NOT NULL DEFAULT 0,
	output           BLOB,
	output_truncated INTEGER NOT NULL DEFAULT 0,
	logs             TEXT    NOT NULL DEFAULT '[]',
	error            TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX invocations_newest ON invocations (started_at DESC, id DESC);
CREATE INDEX invocations_plugin ON invocations (plugin, started_at DESC, id DESC);
CREATE INDEX invocations_trigger ON invocations (trigger, started_at DESC, id DESC);
CREATE INDEX invocations_status ON invocations (status, started_at DESC, id DESC);
CREATE INDEX invocations_caller ON invocations (caller, started_at DESC, id DESC);

CREATE TABLE audit (
	id     INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	time   INTEGER NOT NULL,
	actor  TEXT    NOT NULL,
	action TEXT    NOT NULL,
	target TEXT    NOT NULL DEFAULT '',
	detail TEXT    NOT NULL DEFAULT '{}'
) STRICT;

CREATE INDEX audit_actor ON audit (actor, id DESC);
CREATE INDEX audit_target ON audit (target, id DESC);
