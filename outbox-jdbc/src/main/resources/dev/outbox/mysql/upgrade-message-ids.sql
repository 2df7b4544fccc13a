-- Upgrades outbox tables of the previous schema (before message ids and claim tokens) for
-- dev.outbox:outbox-jdbc and outbox-jdbi-mysql, MySQL 8.0+ / MariaDB 10.6+. Rename the tables as
-- in schema.sql for another table name. Existing entries get a fresh random message id.
-- Run it once, with the processors stopped.

ALTER TABLE outbox ADD COLUMN message_id BINARY(16) NULL AFTER id,
  ADD COLUMN claim_token BINARY(16) NULL AFTER attempts;
UPDATE outbox SET message_id = UNHEX(REPLACE(UUID(), '-', '')) WHERE message_id IS NULL;
ALTER TABLE outbox MODIFY message_id BINARY(16) NOT NULL;
ALTER TABLE outbox_dead_letters ADD COLUMN message_id BINARY(16) NULL AFTER id;
UPDATE outbox_dead_letters SET message_id = UNHEX(REPLACE(UUID(), '-', '')) WHERE message_id IS NULL;
ALTER TABLE outbox_dead_letters MODIFY message_id BINARY(16) NOT NULL;
