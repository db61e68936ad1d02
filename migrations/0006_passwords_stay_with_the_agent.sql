-- The invitation password is checked on the novice's computer, between the agent and the
-- expert's browser (docs/pake.md): the server keeps no password material at all. What it still
-- knows is whether the console should ask for a password, and whether the agent locked the
-- invitation after too many failed checks (it tells the server so, for the status it shows).
--
-- Invitations that had a password keep has_password = 1. Their agent no longer holds a password
-- for them (it never kept one), so it refuses to open them: ask for a new invitation.

ALTER TABLE invitations ADD COLUMN has_password BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invitations ADD COLUMN locked_at BIGINT;

UPDATE invitations SET has_password = 1 WHERE password_hash IS NOT NULL;
-- Locked under the old rule: five wrong passwords counted by the server.
UPDATE invitations SET locked_at = created_at
WHERE password_hash IS NOT NULL AND failed_attempts >= 5;

ALTER TABLE invitations DROP COLUMN password_hash;
