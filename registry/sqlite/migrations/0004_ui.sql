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
