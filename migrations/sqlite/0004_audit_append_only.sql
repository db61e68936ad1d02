-- SQLite: the audit log only grows. Events are never updated or deleted, except that events
-- stored before the chain existed (seq IS NULL) are given their position once. New events
-- must arrive chained, and the head never moves backwards.

CREATE TRIGGER audit_events_refuse_update BEFORE UPDATE ON audit_events
WHEN OLD.seq IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TRIGGER audit_events_refuse_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TRIGGER audit_events_must_be_chained BEFORE INSERT ON audit_events
WHEN NEW.seq IS NULL OR NEW.prev_hash IS NULL OR NEW.hash IS NULL
BEGIN
    SELECT RAISE(ABORT, 'audit events must be appended to the chain');
END;

CREATE TRIGGER audit_head_refuse_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'the audit chain head cannot be removed');
END;

CREATE TRIGGER audit_head_refuse_rewind BEFORE UPDATE ON audit_head
WHEN NEW.seq < OLD.seq OR NEW.id <> OLD.id
BEGIN
    SELECT RAISE(ABORT, 'the audit chain head only moves forward');
END;
