-- Portable between SQLite and PostgreSQL: TEXT ids (UUIDs), BIGINT Unix seconds, no booleans.

CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents (id),
    code_hash TEXT NOT NULL UNIQUE,
    short_code_hash TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    active_session TEXT,
    version BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX invitations_by_agent ON invitations (agent_id, created_at);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    invitation_id TEXT NOT NULL REFERENCES invitations (id),
    agent_id TEXT NOT NULL REFERENCES agents (id),
    expert_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    accepted_at BIGINT,
    ended_at BIGINT,
    end_reason TEXT
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    agent_id TEXT,
    invitation_id TEXT,
    session_id TEXT,
    detail TEXT NOT NULL DEFAULT ''
);

CREATE INDEX audit_events_by_time ON audit_events (at);

CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
