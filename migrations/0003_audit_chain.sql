-- Tamper-evident audit log. Every event takes the next position (seq) of one chain and stores
-- the SHA-256 of its content together with its predecessor's hash, so that changing, removing
-- or inserting an event breaks the chain (see signaling-server/src/store/audit.rs).
--
-- Events stored before this change have no position yet; the server chains them once, in the
-- order (at, id), when it next opens the database. Refusing updates and deletes needs triggers,
-- whose syntax differs between SQLite and PostgreSQL: see sqlite/ and postgres/ beside this file.

ALTER TABLE audit_events ADD COLUMN seq BIGINT;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;

-- One event per position, even should two writers ever disagree about the head.
CREATE UNIQUE INDEX audit_events_by_seq ON audit_events (seq);
CREATE INDEX audit_events_by_agent ON audit_events (agent_id, seq);
CREATE INDEX audit_events_by_org ON audit_events (org_id, seq);

-- The end of the chain: the last position and its hash. Appending events updates this single
-- row in the appending transaction, which makes concurrent appenders take turns.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
