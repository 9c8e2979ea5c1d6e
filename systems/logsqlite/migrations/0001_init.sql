-- events: one row per event. seq orders ingest and keys the FTS index; the
-- event's _id is derived from it (encrypted, see id.go). raw is the event's
-- JSON without "tenant" and "_id", which come from the columns. The columns
-- between ts and raw copy common ECS fields (strings only) so they can be
-- indexed; every other field is read with json_extract.
CREATE TABLE events (
	seq     INTEGER PRIMARY KEY,
	tenant  TEXT    NOT NULL,
	ts      INTEGER NOT NULL, -- @timestamp, Unix nanoseconds
	host    TEXT,             -- host.name
	usr     TEXT,             -- user.name
	src_ip  TEXT,             -- source.ip
	dst_ip  TEXT,             -- destination.ip
	process TEXT,             -- process.name
	code    TEXT,             -- event.code
	dataset TEXT,             -- event.dataset
	raw     TEXT    NOT NULL
) STRICT;

-- Every index starts with tenant, then the field, then ts: a query of one
-- tenant on one field reads its rows newest first without sorting.
CREATE INDEX events_tenant_ts ON events (tenant, ts);
CREATE INDEX events_host      ON events (tenant, host, ts)    WHERE host    IS NOT NULL;
CREATE INDEX events_usr       ON events (tenant, usr, ts)     WHERE usr     IS NOT NULL;
CREATE INDEX events_src_ip    ON events (tenant, src_ip, ts)  WHERE src_ip  IS NOT NULL;
CREATE INDEX events_dst_ip    ON events (tenant, dst_ip, ts)  WHERE dst_ip  IS NOT NULL;
CREATE INDEX events_process   ON events (tenant, process, ts) WHERE process IS NOT NULL;
CREATE INDEX events_code      ON events (tenant, code, ts)    WHERE code    IS NOT NULL;
CREATE INDEX events_dataset   ON events (tenant, dataset, ts) WHERE dataset IS NOT NULL;

-- events_fts indexes the text of every event (its values, not its keys) by
-- seq. Contentless: the text lives only in the index. unicode61 splits on
-- everything but letters and digits, so C:\Windows\wscript.exe is the tokens
-- c windows wscript exe; queries search each word as a phrase of its tokens,
-- which finds paths, IPs and command-line switches in place.
CREATE VIRTUAL TABLE events_fts USING fts5(
	text,
	content = '',
	contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2'
);

-- meta holds the store's secret key (ids and cursors).
CREATE TABLE meta (
	key   TEXT NOT NULL PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;
