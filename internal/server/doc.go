// Package server is the HTTP API of `empowerher serve`: every route is in
// routes.go (one table, on the standard library's ServeMux), handlers are
// thin and call internal/incident and the store, and every error leaves as
// JSON {"error":{"code","message"}} with a stable code (errors.go).
package server
