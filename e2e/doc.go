// Package e2e proves the syncer's guarantees end to end (issue 5): the real
// cdc binary, built once per test run, against a real Postgres (pgtest) and
// a recording stand-in for Bento (bentotest). Each test kills, stops or
// starves the process, then compares what the stand-in received with what
// the database says must have been sent.
//
// It owns only tests; it tests behaviour through the CLI and the database,
// never through the internal packages' APIs, so a refactoring inside them
// cannot make these tests pass by accident. Tests run one at a time: one of
// them restarts the shared Postgres server.
package e2e
