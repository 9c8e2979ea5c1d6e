-- 0001: filters, tickets, assets, reports and kv (component "systems" of
-- pgdb.Migrate; the schema may be shared with the registry and the log
-- store). Times are TIMESTAMPTZ (microseconds). Names and keys that are
-- sorted or searched by prefix are in the C collation, so they order by
-- bytes as in the SQLite backend, whatever the database's collation.

CREATE TABLE filters (
	tenant     TEXT        COLLATE "C" NOT NULL,
	name       TEXT        COLLATE "C" NOT NULL,
	conditions JSON        NOT NULL, -- lhk.Condition array; json keeps any string, NUL included
	reason     TEXT        NOT NULL,
	owner      TEXT        NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ,
	hit_count  BIGINT      NOT NULL DEFAULT 0,
	last_hit   TIMESTAMPTZ,
	PRIMARY KEY (tenant, name)
);

CREATE TABLE tickets (
	id           TEXT        COLLATE "C" NOT NULL PRIMARY KEY,
	tenant       TEXT        COLLATE "C" NOT NULL,
	title        TEXT        NOT NULL,
	description  TEXT        NOT NULL,
	status       TEXT        NOT NULL,
	severity     TEXT        NOT NULL,
	assignee     TEXT        NOT NULL,
	reporter     TEXT        NOT NULL,
	external_key TEXT,       -- NULL when unset, so only set keys are unique
	events       JSONB       NOT NULL, -- event ids
	observables  JSONB       NOT NULL, -- lhk.Observable array
	comments     JSONB       NOT NULL, -- lhk.Comment array
	created_at   TIMESTAMPTZ NOT NULL,
	updated_at   TIMESTAMPTZ NOT NULL,
	search       TEXT        NOT NULL  -- lower-cased title, description and comment bodies
);

CREATE UNIQUE INDEX tickets_external_key ON tickets (tenant, external_key) WHERE external_key IS NOT NULL;
CREATE INDEX tickets_newest ON tickets (tenant, created_at DESC, id DESC);

-- ticket_observables indexes the normalised, lower-cased values of each
-- ticket's observables for SearchTickets.
CREATE TABLE ticket_observables (
	ticket TEXT COLLATE "C" NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	tenant TEXT COLLATE "C" NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (tenant, value, ticket)
);

CREATE TABLE assets (
	tenant      TEXT        COLLATE "C" NOT NULL,
	name_key    TEXT        COLLATE "C" NOT NULL, -- lower-cased name
	name        TEXT        NOT NULL,
	ips         JSONB       NOT NULL, -- canonical forms, in the given order
	owner       TEXT        NOT NULL,
	os          TEXT        NOT NULL,
	criticality TEXT        NOT NULL,
	tags        JSONB       NOT NULL, -- sorted, unique
	updated_at  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant, name_key)
);

CREATE TABLE asset_ips (
	tenant   TEXT COLLATE "C" NOT NULL,
	ip       INET NOT NULL,
	name_key TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant, ip, name_key),
	FOREIGN KEY (tenant, name_key) REFERENCES assets (tenant, name_key) ON DELETE CASCADE
);

CREATE TABLE reports (
	id         TEXT        COLLATE "C" NOT NULL PRIMARY KEY,
	tenant     TEXT        COLLATE "C" NOT NULL,
	title      TEXT        NOT NULL,
	plugin     TEXT        NOT NULL,
	author     TEXT        NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	markdown   TEXT        NOT NULL,
	html       TEXT        NOT NULL
);

CREATE INDEX reports_newest ON reports (tenant, created_at DESC, id DESC);

-- kv: namespaces as the library names them (one per plugin); values
-- are bytes.
CREATE TABLE kv (
	ns    TEXT  COLLATE "C" NOT NULL,
	key   TEXT  COLLATE "C" NOT NULL,
	value BYTEA NOT NULL,
	PRIMARY KEY (ns, key)
);
