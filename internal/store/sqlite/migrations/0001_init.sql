-- Initial schema. Times are INTEGER microseconds since the Unix epoch in
-- UTC (NULL when unset), the same precision PostgreSQL's timestamptz keeps,
-- so both backends round-trip identical values.

CREATE TABLE users (
	id               INTEGER PRIMARY KEY,
	name             TEXT    NOT NULL UNIQUE,
	display_name     TEXT    NOT NULL DEFAULT '',
	password_hash    BLOB,
	evidence_consent INTEGER NOT NULL DEFAULT 0,
	created_at       INTEGER NOT NULL
);

CREATE TABLE api_tokens (
	token_hash BLOB    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	label      TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE sessions (
	token_hash BLOB    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf       TEXT    NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE contacts (
	id          INTEGER PRIMARY KEY,
	user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name        TEXT    NOT NULL,
	phone       TEXT    NOT NULL DEFAULT '',
	email       TEXT    NOT NULL DEFAULT '',
	webhook_url TEXT    NOT NULL DEFAULT '',
	channels    TEXT    NOT NULL DEFAULT '[]', -- JSON array, in order of preference
	tier        INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX contacts_user ON contacts(user_id, tier, id);

CREATE TABLE incidents (
	id                 TEXT    PRIMARY KEY,
	user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	state              TEXT    NOT NULL CHECK (state IN ('pending', 'active', 'acknowledged', 'resolved', 'cancelled')),
	trigger_kind       TEXT    NOT NULL DEFAULT '',
	message            TEXT    NOT NULL DEFAULT '',
	score              REAL    NOT NULL DEFAULT 0,
	loc_lat            REAL,
	loc_lon            REAL,
	loc_accuracy       REAL,
	loc_at             INTEGER,
	activate_at        INTEGER,
	escalation_level   INTEGER NOT NULL DEFAULT 0,
	next_escalation_at INTEGER,
	last_heartbeat_at  INTEGER,
	feedback           TEXT    NOT NULL DEFAULT '' CHECK (feedback IN ('', 'false_alarm', 'real')),
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL,
	closed_at          INTEGER
);
CREATE INDEX incidents_user ON incidents(user_id, created_at);
-- DueIncidents and OpenIncident only ever look at open incidents, a small
-- set next to the history, so the partial index keeps the scheduler's scan
-- independent of how many incidents were ever closed.
CREATE INDEX incidents_open ON incidents(user_id, created_at) WHERE state IN ('pending', 'active', 'acknowledged');

CREATE TABLE incident_events (
	id          INTEGER PRIMARY KEY,
	incident_id TEXT    NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
	kind        TEXT    NOT NULL,
	detail      TEXT    NOT NULL DEFAULT '',
	at          INTEGER NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events(incident_id, id);

-- contact_id carries no foreign key: deleting a contact must not erase the
-- record of who was alerted, nor block because they once were.
CREATE TABLE recipients (
	incident_id     TEXT    NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
	contact_id      INTEGER NOT NULL,
	contact_name    TEXT    NOT NULL DEFAULT '',
	token_hash      BLOB    NOT NULL UNIQUE,
	acknowledged_at INTEGER,
	created_at      INTEGER NOT NULL,
	PRIMARY KEY (incident_id, contact_id)
);

CREATE TABLE deliveries (
	id              INTEGER PRIMARY KEY,
	user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	incident_id     TEXT    REFERENCES incidents(id) ON DELETE CASCADE, -- NULL for contact test messages
	contact_id      INTEGER NOT NULL,
	channel         TEXT    NOT NULL,
	purpose         TEXT    NOT NULL DEFAULT '',
	subject         TEXT    NOT NULL DEFAULT '',
	body            TEXT    NOT NULL DEFAULT '',
	url             TEXT    NOT NULL DEFAULT '',
	idempotency_key TEXT    NOT NULL UNIQUE,
	state           TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	lease_owner     TEXT    NOT NULL DEFAULT '',
	lease_until     INTEGER,
	provider_id     TEXT    NOT NULL DEFAULT '',
	last_error      TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
);
-- The queue's two ways in: due queued jobs and expired leases.
CREATE INDEX deliveries_due ON deliveries(next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX deliveries_leased ON deliveries(lease_until) WHERE state = 'sending';
CREATE INDEX deliveries_incident ON deliveries(incident_id, id);
CREATE INDEX deliveries_user ON deliveries(user_id, id);
CREATE INDEX deliveries_provider ON deliveries(channel, provider_id) WHERE provider_id <> '';
