-- 0003: the lhkd replica that ran an invocation (empty on a single node).

ALTER TABLE invocations ADD COLUMN replica TEXT NOT NULL DEFAULT '';
