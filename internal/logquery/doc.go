// Package logquery is what the log stores (systems/logsqlite,
// systems/logpg) share beyond SQL, so both ingest, check and page the same
// way:
//
//   - ingest: NDJSON read line by line (Ingest), each event flattened,
//     Windows events mapped to ECS (MapWindows), the keyword fields turned
//     into strings, and the text free text searches (EventText);
//   - requests: tenant and time range (CheckRequest), limits (check.Limit),
//     field conditions checked into Cond values (Compile, CompileAll,
//     CompileExclude) and free-text queries read into terms (Terms), all
//     checked in one order into a Request (CheckSearch, CheckFieldSearch,
//     CheckTop, CheckCount) that a store compiles into SQL;
//   - results: Page cuts a search's rows to its limit and seals the cursor
//     of the next page, TopResult and CountResult assemble the others, and
//     StopError says why a query stopped short;
//   - words: Tokens splits text exactly as the SQLite store's FTS5 index
//     does, so a store without FTS5 finds the same events;
//   - ids and cursors: Keys encrypts row numbers into opaque "_id"s and
//     seals cursors bound to the tenant and the request.
//
// Error messages are written here once, so a caller sees the same message
// whichever store answers.
package logquery
