-- 0001: filters, tickets, assets, reports and kv. Times are Unix nanoseconds
-- (UTC); lists, observables and comments of a ticket are JSON columns, with
-- side tables only where a search needs an index.

CREATE TABLE filters (
	tenant     TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	conditions TEXT    NOT NULL, -- JSON array of lhk.Condition
	reason     TEXT    NOT NULL,
	owner      TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	hit_count  INTEGER NOT NULL DEFAULT 0,
	last_hit   INTEGER,
	PRIMARY KEY (tenant, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE tickets (
	id           TEXT    NOT NULL PRIMARY KEY,
	tenant       TEXT    NOT NULL,
	title        TEXT    NOT NULL,
	description  TEXT    NOT NULL,
	status       TEXT    NOT NULL,
	severity     TEXT    NOT NULL,
	assignee     TEXT    NOT NULL,
	reporter     TEXT    NOT NULL,
	external_key TEXT,   -- NULL when unset, so only set keys are unique
	events       TEXT    NOT NULL, -- JSON array of event ids
	observables  TEXT    NOT NULL, -- JSON array of lhk.Observable
	comments     TEXT    NOT NULL, -- JSON array of lhk.Comment
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	search       TEXT    NOT NULL  -- lower-cased title, description and comment bodies
) STRICT;

CREATE UNIQUE INDEX tickets_external_key ON tickets (tenant, external_key) WHERE external_key IS NOT NULL;
CREATE INDEX tickets_newest ON tickets (tenant, created_at DESC, id DESC);

-- ticket_observables indexes the normalised, lower-cased values of each
-- ticket's observables for SearchTickets.
CREATE TABLE ticket_observables (
	ticket TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	tenant TEXT NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (tenant, value, ticket)
) STRICT, WITHOUT ROWID;

CREATE TABLE assets (
	tenant      TEXT    NOT NULL,
	name_key    TEXT    NOT NULL, -- lower-cased name
	name        TEXT    NOT NULL,
	ips         TEXT    NOT NULL, -- JSON array, canonical forms
	owner       TEXT    NOT NULL,
	os          TEXT    NOT NULL,
	criticality TEXT    NOT NULL,
	tags        TEXT    NOT NULL, -- JSON array, sorted, unique
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (tenant, name_key)
) STRICT, WITHOUT ROWID;

CREATE TABLE asset_ips (
	tenant   TEXT NOT NULL,
	ip       TEXT NOT NULL, -- canonical form (netip.Addr.String of the unmapped address)
	name_key TEXT NOT NULL,
	PRIMARY KEY (tenant, ip, name_key),
	FOREIGN KEY (tenant, name_key) REFERENCES assets (tenant, name_key) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE TABLE reports (
	id         TEXT    NOT NULL PRIMARY KEY,
	tenant     TEXT    NOT NULL,
	title      TEXT    NOT NULL,
	plugin     TEXT    NOT NULL,
	author     TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	-- last, so listings read the row without walking these overflow pages
	markdown   TEXT    NOT NULL,
	html       TEXT    NOT NULL
) STRICT;

CREATE INDEX reports_newest ON reports (tenant, created_at DESC, id DESC);

CREATE TABLE kv (
	ns    TEXT NOT NULL,
	key   TEXT NOT NULL,
	value BLOB NOT NULL,
	PRIMARY KEY (ns, key)
) STRICT, WITHOUT ROWID;
