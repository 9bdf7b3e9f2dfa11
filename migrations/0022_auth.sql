-- Login challenges (src/auth): single-use nonces, deleted when used; expired ones are swept.
CREATE TABLE auth_challenges (
  nonce text PRIMARY KEY CHECK (length(nonce) = 43),
  expires_at timestamptz NOT NULL
);

CREATE INDEX auth_challenges_expiry ON auth_challenges (expires_at);
