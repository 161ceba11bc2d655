-- The web interface and `status` read per campaign, per message and by state
-- (issue 13): a lycée's page looks up the acknowledgement and forward of each
-- submission (outbox by message_ref), and the web application checks on every
-- request whether the messages changed (outcome, lateness, lycée) — from this
-- covering index alone instead of the whole table.
CREATE INDEX outbox_message ON outbox (message_ref);
CREATE INDEX messages_campaign_state ON messages (campaign_id, outcome, late, uai);
