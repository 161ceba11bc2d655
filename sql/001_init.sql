-- ppo-intake schema, version 1. One statement per ';'-terminated block.
-- Dialect tokens, replaced by the program: {{ID}} an auto-increment primary key.
-- Times are integer seconds since the epoch (UTC): portable and exact.

CREATE TABLE campaigns (
  id {{ID}},
  name TEXT NOT NULL UNIQUE,
  deadline TEXT NOT NULL,
  academies TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE bassins (
  code TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  ien_io_name TEXT NOT NULL DEFAULT '',
  ien_io_mail TEXT NOT NULL DEFAULT ''
);

-- Every open LGT ever imported; a lycée that left the directory is closed, never deleted.
CREATE TABLE lycees (
  uai TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  commune TEXT NOT NULL,
  departement TEXT NOT NULL,
  academie TEXT NOT NULL,
  bassin_code TEXT NOT NULL DEFAULT '',
  bassin_label TEXT NOT NULL DEFAULT '',
  mail TEXT NOT NULL DEFAULT '',
  statut TEXT NOT NULL DEFAULT '',
  nature TEXT NOT NULL DEFAULT '',
  is_open INTEGER NOT NULL DEFAULT 1,
  updated_at BIGINT NOT NULL
);

CREATE TABLE mailbox_state (
  mailbox TEXT PRIMARY KEY,
  uidvalidity BIGINT NOT NULL,
  last_uid BIGINT NOT NULL
);

-- One row per message taken from the mailbox, whatever became of it. Its id is
-- the submission number shown to users.
CREATE TABLE messages (
  id {{ID}},
  campaign_id BIGINT NOT NULL REFERENCES campaigns(id),
  mailbox TEXT NOT NULL,
  uidvalidity BIGINT NOT NULL,
  uid BIGINT NOT NULL,
  message_id TEXT,
  received_at BIGINT NOT NULL,
  from_addr TEXT NOT NULL,
  subject TEXT NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  uai TEXT REFERENCES lycees(uai),
  identified_by TEXT NOT NULL DEFAULT '',
  evidence TEXT NOT NULL DEFAULT '',
  late INTEGER NOT NULL DEFAULT 0,
  folder TEXT NOT NULL,
  moved INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  UNIQUE (mailbox, uidvalidity, uid)
);

CREATE UNIQUE INDEX messages_message_id ON messages (message_id);

CREATE INDEX messages_campaign_uai ON messages (campaign_id, uai);

CREATE TABLE files (
  id {{ID}},
  message_ref BIGINT NOT NULL REFERENCES messages(id),
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  kind TEXT NOT NULL
);

CREATE INDEX files_message ON files (message_ref);

-- Every outgoing mail is first a row here, written in the same transaction as
-- what caused it; the sender sends it afterwards and marks it sent.
CREATE TABLE outbox (
  id {{ID}},
  campaign_id BIGINT NOT NULL REFERENCES campaigns(id),
  kind TEXT NOT NULL,
  message_ref BIGINT REFERENCES messages(id),
  uai TEXT,
  dedupe_key TEXT NOT NULL UNIQUE,
  envelope_from TEXT NOT NULL,
  recipients TEXT NOT NULL,
  data TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  sent_at BIGINT
);

CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE reminders (
  campaign_id BIGINT NOT NULL REFERENCES campaigns(id),
  uai TEXT NOT NULL,
  offset_days INTEGER NOT NULL,
  outbox_ref BIGINT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (campaign_id, uai, offset_days)
);

CREATE TABLE digests (
  campaign_id BIGINT NOT NULL REFERENCES campaigns(id),
  slot TEXT NOT NULL,
  outbox_ref BIGINT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (campaign_id, slot)
);
