-- 0002: each plugin's webhook secret (an HMAC key, so stored as it is; it is
-- never written to the audit log). It goes with its plugin.

CREATE TABLE webhooks (
	plugin     TEXT    NOT NULL PRIMARY KEY REFERENCES plugins (name) ON DELETE CASCADE,
	secret     TEXT    NOT NULL,
	updated_by TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
