// Package storetest is the conformance suite every store.Store
// implementation must pass. Each backend's tests call Run with a function
// that opens a fresh, empty store; the suite proves the contract the
// service relies on (per-user isolation, atomic incident creation,
// optimistic transitions, an exclusive delivery queue) against the real
// database, not a fake.
package storetest
