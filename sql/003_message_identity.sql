-- Message identity (issue 10). A message is (mailbox, UIDVALIDITY, UID); its
-- Message-ID is a stranger's field and no longer a unique key: two different
-- messages may carry the same one, or none. What recognises *the same* message
-- again (after a UIDVALIDITY change, or a re-delivery of identical content) is
-- its content digest (SHA-256 over the author's headers and the body, see
-- parsers/mime/content_digest.h); a re-delivery is recorded with outcome
-- 'duplicate' and duplicate_of naming the first copy.
DROP INDEX messages_message_id;

CREATE INDEX messages_message_id ON messages (message_id);

ALTER TABLE messages ADD COLUMN content_sha256 TEXT;

ALTER TABLE messages ADD COLUMN duplicate_of BIGINT;

CREATE INDEX messages_content ON messages (content_sha256);

-- The Message-ID of each mail we send, so that a reply to an acknowledgement,
-- a reminder or a forward is credited to that mail's lycée (In-Reply-To /
-- References). Rows queued before this migration have none.
ALTER TABLE outbox ADD COLUMN message_id TEXT;

CREATE INDEX outbox_message_id ON outbox (message_id);
