-- Upgrades outbox tables of the previous schema (before message ids and claim tokens) for
-- dev.outbox:outbox-jdbc and outbox-jdbi-postgres, PostgreSQL 13+ (gen_random_uuid is built in;
-- on 12, CREATE EXTENSION pgcrypto first). Rename the tables as in schema.sql, or render it for
-- your table name the same way. Existing entries get a fresh random message id.
-- Run it once, with the processors stopped.

ALTER TABLE outbox ADD COLUMN message_id uuid, ADD COLUMN claim_token uuid;
UPDATE outbox SET message_id = gen_random_uuid() WHERE message_id IS NULL;
ALTER TABLE outbox ALTER COLUMN message_id SET NOT NULL;
ALTER TABLE outbox_dead_letters ADD COLUMN message_id uuid;
UPDATE outbox_dead_letters SET message_id = gen_random_uuid() WHERE message_id IS NULL;
ALTER TABLE outbox_dead_letters ALTER COLUMN message_id SET NOT NULL;
