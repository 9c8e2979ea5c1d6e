-- 0004: webhook deliveries seen lately, shared by every replica, so a captured
-- delivery replayed to another replica is refused too. Rows older than twice
-- the accepted clock skew are pruned as new deliveries arrive.

CREATE TABLE webhook_deliveries (
	plugin    TEXT        NOT NULL,
	signature TEXT        NOT NULL,
	seen_at   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (plugin, signature)
);

CREATE INDEX webhook_deliveries_seen_at ON webhook_deliveries (seen_at);
