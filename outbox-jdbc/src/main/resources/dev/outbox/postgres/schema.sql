-- Outbox tables for PostgreSQL 12 or later (dev.outbox:outbox-jdbc, JdbcDialect.postgres();
-- also used by dev.outbox:outbox-jdbi-postgres).
--
-- Copy this file into a Flyway or Liquibase migration as it is, or rename the table first: the
-- dead-letter table is always named <table>_dead_letters, and the storage's tableName(...) must
-- name the same table. createSchema() runs this very script with the configured name, and
-- schemaSql() returns it. Every statement is idempotent (IF NOT EXISTS).

CREATE TABLE IF NOT EXISTS outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   uuid        NOT NULL,       -- the message's identity (UUID v7), kept through dead letters and requeue
    namespace    text        NOT NULL,
    msg_key      bytea,                      -- NULL: no key; an empty bytea: the empty key
    payload      bytea       NOT NULL,
    headers      jsonb       NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,       -- the writer's clock at publish; statistics only
    available_at timestamptz NOT NULL,       -- claimable when <= now; fresh entries hold the epoch; a claim moves it to the lease deadline
    attempts     int         NOT NULL DEFAULT 0,
    claim_token  uuid,                       -- the current claim; every change after a claim is fenced by it
    processor_id text,                       -- who claimed the entry last, for operators
    last_error   text,
    order_key    bigint                      -- ordered storages only: a 64-bit hash of (namespace, key); NULL: no key, or written unordered
);

-- The claim scans the primary key in id order and filters on available_at, so it stays an index
-- scan however large the backlog; statistics find the oldest entry by the primary key too.
--
-- The ordered claim (JdbcStorage.builder(...).ordering(BY_KEY or BY_KEY_BLOCKING)) also asks, per
-- candidate, whether an older entry of its order key is left, and finds a head's followers: both
-- are probes of this index. It is partial: an unordered storage writes no order_key, so its
-- inserts and deletes never touch it.
CREATE INDEX IF NOT EXISTS outbox_order_idx ON outbox (order_key, id) WHERE order_key IS NOT NULL;

CREATE TABLE IF NOT EXISTS outbox_dead_letters (
    id               bigint      PRIMARY KEY, -- the id the entry had, kept on requeue
    message_id       uuid        NOT NULL,
    namespace        text        NOT NULL,
    msg_key          bytea,
    payload          bytea       NOT NULL,
    headers          jsonb       NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL,
    attempts         int         NOT NULL,
    last_error       text        NOT NULL,
    dead_lettered_at timestamptz NOT NULL,
    order_key        bigint                   -- kept from the outbox, and put back on requeue
);

-- BY_KEY_BLOCKING: a key with a dead letter is held back; the claim probes this index.
CREATE INDEX IF NOT EXISTS outbox_dl_order_idx ON outbox_dead_letters (order_key)
    WHERE order_key IS NOT NULL;
