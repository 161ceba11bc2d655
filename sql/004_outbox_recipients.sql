-- Outbox recipients as rows, one per address, never a comma-joined list matched
-- with LIKE: the per-recipient hourly limit ([smtp] max_per_recipient_per_hour)
-- counts exact (lower-cased) addresses only, and reads only this index.
-- outbox.recipients keeps the list for the sender, now as a JSON array
-- ["a@x.fr","b@y.fr"]; the rows written before this version are converted
-- below, and the program still reads a comma-joined list it could not convert.
CREATE TABLE outbox_recipients (
  outbox_ref BIGINT NOT NULL REFERENCES outbox(id),
  address TEXT NOT NULL,
  kind TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (outbox_ref, address)
);

CREATE INDEX outbox_recipients_rate ON outbox_recipients (address, kind, created_at);

-- Split every existing list at its commas, one character at a time (portable
-- SQL: SQLite and PostgreSQL share substr, || and recursive CTEs, not instr).
WITH RECURSIVE split (outbox_ref, kind, created_at, rest, cur, item) AS (
  SELECT id, kind, created_at, recipients || ',', CAST('' AS TEXT), CAST(NULL AS TEXT) FROM outbox
  UNION ALL
  SELECT outbox_ref, kind, created_at, substr(rest, 2),
         CASE WHEN substr(rest, 1, 1) = ',' THEN '' ELSE cur || substr(rest, 1, 1) END,
         CASE WHEN substr(rest, 1, 1) = ',' THEN cur ELSE NULL END
  FROM split WHERE rest <> ''
)
INSERT INTO outbox_recipients (outbox_ref, address, kind, created_at)
SELECT DISTINCT outbox_ref, lower(trim(item)), kind, created_at FROM split
WHERE item IS NOT NULL AND trim(item) <> '';

-- The lists themselves become JSON arrays, unless an address holds a quote or
-- a backslash (it would need escaping: left comma-joined, read as such).
UPDATE outbox SET recipients = '["' || replace(recipients, ',', '","') || '"]'
WHERE recipients NOT LIKE '[%' AND replace(replace(recipients, '"', ''), '\', '') = recipients;

-- The covering index of 002 was for the LIKE count.
DROP INDEX outbox_rate;
