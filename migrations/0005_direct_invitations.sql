-- Direct invitations: a novice's agent sends one straight to an expert of its support desk,
-- who accepts or declines it in the browser. Such an invitation has no usable link code.
ALTER TABLE invitations ADD COLUMN direct_to TEXT REFERENCES users (id);
ALTER TABLE invitations ADD COLUMN accepted_at BIGINT;
ALTER TABLE invitations ADD COLUMN declined_at BIGINT;

CREATE INDEX invitations_by_expert ON invitations (direct_to, created_at);
