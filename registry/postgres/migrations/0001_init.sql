-- 0001: the registry's first PostgreSQL schema, the same records as the
-- SQLite registry's migrations 0001-0003, plus what several replicas sharing
-- one registry need (cron_claims, replicas). Times are TIMESTAMPTZ
-- (microseconds); lists and maps are JSONB; modules and outputs are BYTEA.
-- Audit details are JSON, not JSONB, so an entry reads back byte for byte.

CREATE TABLE users (
	name       TEXT        NOT NULL PRIMARY KEY,
	role       TEXT        NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
	ceiling    JSONB       NOT NULL DEFAULT '{}',
	token_hash TEXT        NOT NULL CONSTRAINT users_token_hash_key UNIQUE,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE plugins (
	name             TEXT        NOT NULL PRIMARY KEY,
	owner            TEXT        NOT NULL REFERENCES users (name),
	description      TEXT        NOT NULL DEFAULT '',
	entrypoint       TEXT        NOT NULL DEFAULT 'run',
	config           JSONB       NOT NULL DEFAULT '{}',
	timeout_ms       INTEGER     NOT NULL,
	memory_mb        INTEGER     NOT NULL,
	max_input_bytes  INTEGER     NOT NULL,
	max_output_bytes INTEGER     NOT NULL,
	max_log_lines    INTEGER     NOT NULL,
	concurrency      INTEGER     NOT NULL,
	current_version  INTEGER     NOT NULL DEFAULT 0,
	grant_json       JSONB       NOT NULL DEFAULT '{"capabilities":[],"tenants":[],"allowed_hosts":[]}',
	created_at       TIMESTAMPTZ NOT NULL,
	updated_at       TIMESTAMPTZ NOT NULL
);

CREATE INDEX plugins_owner ON plugins (owner, name);

-- A version's metadata; its module lives in version_wasm so that listing
-- versions never reads (or decompresses) the TOASTed modules.
CREATE TABLE versions (
	plugin      TEXT        NOT NULL REFERENCES plugins (name) ON DELETE CASCADE,
	number      INTEGER     NOT NULL CHECK (number > 0),
	sha256      TEXT        NOT NULL,
	size        BIGINT      NOT NULL,
	uploaded_by TEXT        NOT NULL,
	uploaded_at TIMESTAMPTZ NOT NULL,
	imports     JSONB       NOT NULL DEFAULT '[]',
	exports     JSONB       NOT NULL DEFAULT '[]',
	PRIMARY KEY (plugin, number)
);

CREATE TABLE version_wasm (
	plugin TEXT    NOT NULL,
	number INTEGER NOT NULL,
	wasm   BYTEA   NOT NULL,
	PRIMARY KEY (plugin, number),
	FOREIGN KEY (plugin, number) REFERENCES versions (plugin, number) ON DELETE CASCADE
);

-- Versions are immutable: only insert and (with their plugin) delete.
CREATE FUNCTION versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'versions are immutable' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions
	FOR EACH ROW EXECUTE FUNCTION versions_immutable();

CREATE TRIGGER version_wasm_immutable BEFORE UPDATE ON version_wasm
	FOR EACH ROW EXECUTE FUNCTION versions_immutable();

CREATE TABLE schedules (
	plugin     TEXT        NOT NULL PRIMARY KEY REFERENCES plugins (name) ON DELETE CASCADE,
	cron       TEXT        NOT NULL,
	timezone   TEXT        NOT NULL DEFAULT '',
	input      TEXT        NOT NULL DEFAULT '',
	enabled    BOOLEAN     NOT NULL DEFAULT true,
	updated_by TEXT        NOT NULL DEFAULT '',
	updated_at TIMESTAMPTZ NOT NULL
);

-- Each plugin's webhook secret (an HMAC key, so stored as it is; it is never
-- written to the audit log). It goes with its plugin.
CREATE TABLE webhooks (
	plugin     TEXT        NOT NULL PRIMARY KEY REFERENCES plugins (name) ON DELETE CASCADE,
	secret     TEXT        NOT NULL,
	updated_by TEXT        NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);

-- Invocations are history: no foreign key to plugins, so deleting a plugin
-- keeps its runs. replica names the lhkd that ran it ('' on a single node).
CREATE TABLE invocations (
	id               TEXT             NOT NULL PRIMARY KEY,
	plugin           TEXT             NOT NULL,
	version          BIGINT           NOT NULL DEFAULT 0,
	function         TEXT             NOT NULL DEFAULT '',
	trigger          TEXT             NOT NULL DEFAULT '',
	caller           TEXT             NOT NULL DEFAULT '',
	status           TEXT             NOT NULL CHECK (status IN ('running', 'ok', 'error', 'timeout', 'skipped')),
	started_at       TIMESTAMPTZ      NOT NULL,
	duration_ms      DOUBLE PRECISION NOT NULL DEFAULT 0,
	output           BYTEA,
	output_truncated BOOLEAN          NOT NULL DEFAULT false,
	logs             JSONB            NOT NULL DEFAULT '[]',
	error            TEXT             NOT NULL DEFAULT '',
	replica          TEXT             NOT NULL DEFAULT ''
);

CREATE INDEX invocations_newest ON invocations (started_at DESC, id DESC);
CREATE INDEX invocations_plugin ON invocations (plugin, started_at DESC, id DESC);
CREATE INDEX invocations_trigger ON invocations (trigger, started_at DESC, id DESC);
CREATE INDEX invocations_status ON invocations (status, started_at DESC, id DESC);
CREATE INDEX invocations_caller ON invocations (caller, started_at DESC, id DESC);
-- The runs ReapInvocations looks at: few rows, so a small partial index.
CREATE INDEX invocations_running ON invocations (replica) WHERE status = 'running';

-- Audit ids are handed out under the registry's write lock, so they increase
-- in commit order and paging by id never skips an entry committed late.
-- Actor and target are indexed by their first 128 characters: a B-tree entry
-- must stay under ~2.7 kB, and Audit accepts any target.
CREATE TABLE audit (
	id     BIGINT      NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time   TIMESTAMPTZ NOT NULL,
	actor  TEXT        NOT NULL,
	action TEXT        NOT NULL,
	target TEXT        NOT NULL DEFAULT '',
	detail JSON        NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_actor ON audit (left(actor, 128), id DESC);
CREATE INDEX audit_target ON audit (left(target, 128), id DESC);

-- One row per cron tick run anywhere: the replica whose insert succeeded runs
-- it. Rows older than a week are pruned.
CREATE TABLE cron_claims (
	plugin     TEXT        NOT NULL,
	tick       TIMESTAMPTZ NOT NULL,
	replica    TEXT        NOT NULL,
	claimed_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (plugin, tick)
);

CREATE INDEX cron_claims_claimed_at ON cron_claims (claimed_at);

-- The lhkd replicas sharing this registry and their last heartbeat.
CREATE TABLE replicas (
	name    TEXT        NOT NULL PRIMARY KEY,
	seen_at TIMESTAMPTZ NOT NULL
);
