-- Upgrades outbox tables created before per-key ordering (dev.outbox:outbox-jdbc and
-- outbox-jdbi-postgres, PostgreSQL 12+): adds order_key and the ordered claim's indexes. Rename the
-- tables and indexes as in schema.sql, or render it for your table name the same way. Idempotent.
--
-- Adding a nullable column is a catalog change only (no rewrite); building the indexes reads the
-- table (use CREATE INDEX CONCURRENTLY, outside a transaction, on a large live table). Entries
-- already in the outbox keep order_key NULL: they are delivered unordered, as they were written.

ALTER TABLE outbox ADD COLUMN IF NOT EXISTS order_key bigint;
ALTER TABLE outbox_dead_letters ADD COLUMN IF NOT EXISTS order_key bigint;
CREATE INDEX IF NOT EXISTS outbox_order_idx ON outbox (order_key, id) WHERE order_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_dl_order_idx ON outbox_dead_letters (order_key)
    WHERE order_key IS NOT NULL;
