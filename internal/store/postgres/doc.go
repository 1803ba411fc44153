// Package postgres is the store.Store for running several instances
// against one database (pgx/v5 with pgxpool).
//
// The delivery queue is shared: LeaseDeliveries claims rows with
// FOR UPDATE SKIP LOCKED, so concurrent workers in any process each get
// different rows without waiting on each other, and a lease that expires
// (its worker was killed) is claimed again. Migrations are embedded and
// applied at Open under an advisory lock, so instances starting together
// apply each one exactly once.
package postgres
