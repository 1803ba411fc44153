// Package sqlite is the zero-configuration store.Store: one database file
// in the data directory, opened with the pure-Go modernc.org/sqlite driver
// (no CGO).
//
// The file runs in WAL mode so readers never block the writer. All writes
// go through a single connection held for the Store's life (SQLite admits
// one writer at a time anyway), so concurrent requests in this process
// queue on a mutex instead of failing with SQLITE_BUSY; transactions still
// begin with BEGIN IMMEDIATE and busy_timeout is set, so another process
// on the same file (`empowerher user add` while `serve` runs) waits
// instead of failing. Every statement is compiled once per connection and
// cached (compiling was half of the CPU of an alert), an incident's
// recipients and deliveries are inserted with one multi-row INSERT each,
// and the delivery queue's lease and completion are single autocommit
// statements. Reads use a separate, read-only pool. Migrations are
// embedded and applied at Open.
package sqlite
