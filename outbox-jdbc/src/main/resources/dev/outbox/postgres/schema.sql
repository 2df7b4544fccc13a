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
    last_error   text
);

-- The claim scans the primary key in id order and filters on available_at, so it stays an index
-- scan however large the backlog; statistics find the oldest entry by the primary key too. No
-- further index is needed.

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
    dead_lettered_at timestamptz NOT NULL
);
