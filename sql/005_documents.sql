-- What the documents say (issue 12): their text, read in a child process
-- (daemon/documents/document_reader.h), for identification, the PPO checks and search;
-- the checks' findings; the winmail.dat a file was unpacked from; and the
-- download links of a message that gives a link instead of a file.
-- Rows written before this version keep NULLs: "not read", never "no text".
ALTER TABLE files ADD COLUMN container TEXT;
ALTER TABLE files ADD COLUMN text TEXT;
ALTER TABLE files ADD COLUMN text_error TEXT;
ALTER TABLE files ADD COLUMN looks_like_ppo TEXT;
ALTER TABLE files ADD COLUMN school_years TEXT;
ALTER TABLE files ADD COLUMN named_uais TEXT;
ALTER TABLE files ADD COLUMN check_detail TEXT;
ALTER TABLE messages ADD COLUMN links TEXT;
