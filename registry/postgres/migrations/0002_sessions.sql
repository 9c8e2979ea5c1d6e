-- 0002: the web UI's sessions (SQLite's migration 0004), shared by every
-- replica so that a browser stays signed in whichever one answers. Only the
-- hash of the session id is kept, and the hash of the token it was opened
-- with, through which it finds its user (a renewed token ends its sessions).
-- The column is user_name because user is a reserved word.

CREATE TABLE sessions (
	id_hash    TEXT        NOT NULL PRIMARY KEY,
	token_hash TEXT        NOT NULL,
	user_name  TEXT        NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);

-- CreateSession sweeps expired sessions.
CREATE INDEX sessions_expires ON sessions (expires_at);
