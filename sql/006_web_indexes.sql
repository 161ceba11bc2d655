-- What the web pages and the status read in bulk (issue 13), without
-- scanning the mails' text or every message of the campaign:
-- the acknowledgement and forward of each message, with their state;
CREATE INDEX outbox_message ON outbox (message_ref, kind, state, campaign_id);
-- the messages of a campaign by outcome (submissions, triage, quarantine,
-- duplicates), oldest first.
CREATE INDEX messages_campaign_outcome ON messages (campaign_id, outcome, received_at);
