-- 0003: a plugin's runs filtered by status or by trigger (the web UI's history
-- filters), without walking every run of that status or trigger. No covering
-- index as in SQLite: error texts can outgrow a B-tree entry, and PostgreSQL's
-- heap fetches for a page of 50 cost little.

CREATE INDEX invocations_plugin_status ON invocations (plugin, status, started_at DESC, id DESC);
CREATE INDEX invocations_plugin_trigger ON invocations (plugin, trigger, started_at DESC, id DESC);
