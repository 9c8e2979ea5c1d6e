-- 0005: webhook deliveries seen lately, so a captured delivery cannot be
-- replayed while its timestamp is accepted, also across a restart. Rows older
-- than twice the accepted clock skew are deleted as new deliveries arrive.

CREATE TABLE webhook_deliveries (
	plugin    TEXT    NOT NULL,
	signature TEXT    NOT NULL,
	seen_at   INTEGER NOT NULL,
	PRIMARY KEY (plugin, signature)
) STRICT;

CREATE INDEX webhook_deliveries_seen_at ON webhook_deliveries (seen_at);
