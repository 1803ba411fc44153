// Package storeopen picks the store.Store backend from a --db value. It
// lives apart from package store because both backends import store for
// its types; putting the dispatcher there would be an import cycle.
package storeopen
