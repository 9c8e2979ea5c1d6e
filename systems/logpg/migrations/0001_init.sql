-- 0001: the log store. Component "logs" of pgdb.Migrate; it may share a
-- schema with the registry and the systems' store.

-- Helpers to read a field of an event (a jsonb value) the way the SQLite
-- store's json_extract reads it. They are plain SQL, so the planner inlines
-- them and index expressions written with them match queries written with
-- them.

-- lhk_str: a JSON string as text; anything else NULL. The keyword fields
-- (host.name…) compare strings only.
CREATE FUNCTION lhk_str(j jsonb) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT CASE WHEN jsonb_typeof(j) = 'string' THEN j #>> '{}' END $$;

-- lhk_txt: a value SQLite types as text: a string, or an array as its JSON.
CREATE FUNCTION lhk_txt(j jsonb) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT CASE jsonb_typeof(j) WHEN 'string' THEN j #>> '{}' WHEN 'array' THEN j::text WHEN 'object' THEN j::text END $$;

-- lhk_like: a value as LIKE sees it: numbers as their digits, booleans as
-- 1 and 0, arrays as JSON, null as NULL.
CREATE FUNCTION lhk_like(j jsonb) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT CASE jsonb_typeof(j) WHEN 'string' THEN j #>> '{}' WHEN 'number' THEN j #>> '{}'
		WHEN 'boolean' THEN CASE WHEN j = 'true'::jsonb THEN '1' ELSE '0' END
		WHEN 'array' THEN j::text WHEN 'object' THEN j::text END $$;

-- lhk_num: a value SQLite compares as a number: numbers, and booleans as 1
-- and 0.
CREATE FUNCTION lhk_num(j jsonb) RETURNS numeric
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT CASE jsonb_typeof(j) WHEN 'number' THEN (j #>> '{}')::numeric
		WHEN 'boolean' THEN CASE WHEN j = 'true'::jsonb THEN 1 ELSE 0 END END $$;

-- lhk_key: the value top groups by: null is no value, booleans count as 1
-- and 0, arrays as their JSON text.
CREATE FUNCTION lhk_key(j jsonb) RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT CASE jsonb_typeof(j) WHEN 'null' THEN NULL
		WHEN 'boolean' THEN CASE WHEN j = 'true'::jsonb THEN '1'::jsonb ELSE '0'::jsonb END
		WHEN 'array' THEN to_jsonb(j::text) WHEN 'object' THEN to_jsonb(j::text) ELSE j END $$;

-- events: one row per event. seq orders ingest and is the event's _id
-- (encrypted, see logquery.Keys). doc is the event (flattened, ECS fields
-- added) without "tenant" and "_id", which come from the columns; orig is
-- its exact JSON when doc cannot hold it byte for byte (a number in
-- exponent form, a NUL character), NULL otherwise. words is the event's
-- text as the words free text matches (" a b c ", for phrases); tsv holds
-- the distinct words for the index (long words cut, see logpg); ips maps
-- each field holding an IP address to its canonical form, for cidr.
CREATE TABLE events (
	seq    BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant TEXT        COLLATE "C" NOT NULL,
	ts     TIMESTAMPTZ NOT NULL,
	doc    JSONB       NOT NULL,
	orig   TEXT,
	words  TEXT        NOT NULL,
	tsv    TSVECTOR    NOT NULL,
	ips    JSONB
);

-- Every b-tree starts with tenant, then the field, then ts: a query of one
-- tenant on one field reads its rows newest first without sorting. They are
-- not partial, so ANALYZE keeps statistics of their expressions (the
-- planner ignores those of partial indexes) and estimates conditions on
-- them.
CREATE INDEX events_tenant_ts ON events (tenant, ts, seq);
CREATE INDEX events_host    ON events (tenant, (lhk_str(doc -> 'host.name') COLLATE "C"), ts);
CREATE INDEX events_user    ON events (tenant, (lhk_str(doc -> 'user.name') COLLATE "C"), ts);
CREATE INDEX events_process ON events (tenant, (lhk_str(doc -> 'process.name') COLLATE "C"), ts);
CREATE INDEX events_code    ON events (tenant, (lhk_str(doc -> 'event.code') COLLATE "C"), ts);
CREATE INDEX events_dataset ON events (tenant, (lhk_str(doc -> 'event.dataset') COLLATE "C"), ts);
-- cidr on the two common address fields: ips holds only addresses Go
-- parsed, so the cast never fails.
CREATE INDEX events_src_ip  ON events (tenant, ((ips ->> 'source.ip')::inet));
CREATE INDEX events_dst_ip  ON events (tenant, ((ips ->> 'destination.ip')::inet));
-- eq on any other field: containment, {"field": value}.
CREATE INDEX events_doc ON events USING gin (doc jsonb_path_ops);
-- free text.
CREATE INDEX events_tsv ON events USING gin (tsv);

-- log_keys holds the store's secret key (ids and cursors), shared by every
-- replica.
CREATE TABLE log_keys (
	name  TEXT  NOT NULL PRIMARY KEY,
	value BYTEA NOT NULL
);
