-- The per-recipient hourly limit ([smtp] max_per_recipient_per_hour) counts a
-- recipient's recent mails of one kind at every enqueue. Without this index
-- that count read the whole outbox, mail bodies included, for each message
-- taken in; with it the count reads only this index (kind, time, recipients).
CREATE INDEX outbox_rate ON outbox (kind, created_at, recipients);
