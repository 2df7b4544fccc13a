-- Upgrades outbox tables created before per-key ordering (dev.outbox:outbox-jdbc and
-- outbox-jdbi-mysql, MySQL 8.0+ / MariaDB 10.6+): adds order_key, the ordered claim's indexes and
-- the lock table of the ordered publish. Rename the tables as in schema.sql for another table
-- name. Run it once (MySQL has no ADD COLUMN IF NOT EXISTS), with the processors stopped.
-- Entries already in the outbox keep order_key NULL: they are delivered unordered, as they were
-- written.

ALTER TABLE outbox ADD COLUMN order_key BIGINT NULL, ADD KEY order_idx (order_key, id);
ALTER TABLE outbox_dead_letters ADD COLUMN order_key BIGINT NULL, ADD KEY order_idx (order_key);
CREATE TABLE IF NOT EXISTS outbox_key_locks (
  stripe INT NOT NULL,
  PRIMARY KEY (stripe)
) ENGINE=InnoDB;
