-- PostgreSQL: the audit log only grows. Events are never updated, deleted or truncated, except
-- that events stored before the chain existed (seq IS NULL) are given their position once.
-- New events must arrive chained, and the head never moves backwards.

CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER audit_events_refuse_update BEFORE UPDATE ON audit_events
FOR EACH ROW WHEN (OLD.seq IS NOT NULL)
EXECUTE FUNCTION audit_refuse('audit events are append-only');

CREATE TRIGGER audit_events_refuse_delete BEFORE DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_refuse('audit events are append-only');

CREATE TRIGGER audit_events_refuse_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse('audit events are append-only');

CREATE TRIGGER audit_events_must_be_chained BEFORE INSERT ON audit_events
FOR EACH ROW WHEN (NEW.seq IS NULL OR NEW.prev_hash IS NULL OR NEW.hash IS NULL)
EXECUTE FUNCTION audit_refuse('audit events must be appended to the chain');

CREATE TRIGGER audit_head_refuse_delete BEFORE DELETE ON audit_head
FOR EACH ROW EXECUTE FUNCTION audit_refuse('the audit chain head cannot be removed');

CREATE TRIGGER audit_head_refuse_truncate BEFORE TRUNCATE ON audit_head
FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse('the audit chain head cannot be removed');

CREATE TRIGGER audit_head_refuse_rewind BEFORE UPDATE ON audit_head
FOR EACH ROW WHEN (NEW.seq < OLD.seq OR NEW.id <> OLD.id)
EXECUTE FUNCTION audit_refuse('the audit chain head only moves forward');
