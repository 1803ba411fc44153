package storeopen

import (
	"context"
	"errors"
	"strings"

	"github.com/empowerher/empowerher/internal/store"
	"github.com/empowerher/empowerher/internal/store/postgres"
	"github.com/empowerher/empowerher/internal/store/sqlite"
)

// Open opens the store named by dsn:
//
//	postgres://… or postgresql://…   PostgreSQL (pgx), as libpq takes it
//	sqlite:PATH or sqlite://PATH     SQLite, as sqlite.Open takes PATH
//	PATH                             the same
//
// sqlite.Open treats PATH as a data directory (database PATH/empowerher.db,
// created if missing) unless it is an existing file or ends in .db,
// .sqlite or .sqlite3, so `--data DIR` can be passed straight through.
func Open(ctx context.Context, dsn string) (store.Store, error) {
	kind, rest := Kind(dsn)
	switch kind {
	case "postgres":
		return postgres.Open(ctx, rest)
	case "sqlite":
		if rest == "" {
			return nil, errors.New("storeopen: sqlite: empty path")
		}
		return sqlite.Open(ctx, rest)
	}
	return nil, errors.New("storeopen: empty database name")
}

// Kind reports which backend dsn selects ("postgres", "sqlite", or ""
// when dsn is empty) and what that backend's Open takes.
func Kind(dsn string) (kind, rest string) {
	switch {
	case dsn == "":
		return "", ""
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "postgres", dsn
	case strings.HasPrefix(dsn, "sqlite://"):
		return "sqlite", strings.TrimPrefix(dsn, "sqlite://")
	case strings.HasPrefix(dsn, "sqlite:"):
		return "sqlite", strings.TrimPrefix(dsn, "sqlite:")
	}
	return "sqlite", dsn
}
