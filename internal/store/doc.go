// Package store persists users, contacts, incidents and the durable
// delivery queue. Store is one interface with two implementations,
// SQLite (the zero-configuration default) and PostgreSQL, both held to the
// same conformance suite (storetest).
package store
