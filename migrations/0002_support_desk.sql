-- Support desk: organisations, their people, enrolled machines, sign-in sessions.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- role: 'admin' or 'operator'.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One signed-in browser. Only the SHA-256 of the cookie's secret is kept.
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- uses_left: NULL means unlimited until expiry.
CREATE TABLE enrolment_tokens (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    uses_left BIGINT,
    revoked_at BIGINT
);

-- An enrolled machine belongs to an organisation; last_seen_at is when its connection ended.
ALTER TABLE agents ADD COLUMN org_id TEXT REFERENCES organisations (id);
ALTER TABLE agents ADD COLUMN last_seen_at BIGINT;

-- Help an operator offered: the invitation was made by the desk, not by the novice.
ALTER TABLE invitations ADD COLUMN offered_by TEXT REFERENCES users (id);

ALTER TABLE sessions ADD COLUMN expert_user_id TEXT REFERENCES users (id);

-- Events about the desk's own people (sign-in) belong to an organisation without a machine.
ALTER TABLE audit_events ADD COLUMN org_id TEXT;
ALTER TABLE audit_events ADD COLUMN user_id TEXT;
