-- Tables of dev.outbox:outbox-jdbi-postgres (PostgreSQL 12 or later).
--
-- Copy this file into a Flyway or Liquibase migration as it is, or rename the table first: the
-- dead-letter table is always named <table>_dead_letters, and PostgresStorage.builder(jdbi)
-- .tableName(...) must name the same table. PostgresStorage.createSchema() runs this very
-- script with the configured name. Every statement is idempotent (IF NOT EXISTS).

CREATE TABLE IF NOT EXISTS outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    namespace    text        NOT NULL,
    msg_key      bytea,                      -- NULL: no key; an empty bytea: the empty key
    payload      bytea       NOT NULL,
    headers      jsonb       NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    available_at timestamptz NOT NULL,       -- claimable when <= now; a claim moves it to the lease deadline
    attempts     int         NOT NULL DEFAULT 0,
    processor_id text,                       -- who claimed the entry last; every change after a claim is fenced by it
    last_error   text
);

-- The claim scans the primary key in id order and filters on available_at, so it stays an index
-- scan however large the backlog; no further index is needed.

CREATE TABLE IF NOT EXISTS outbox_dead_letters (
    id               bigint      PRIMARY KEY, -- the id the entry had, kept on requeue
    namespace        text        NOT NULL,
    msg_key          bytea,
    payload          bytea       NOT NULL,
    headers          jsonb       NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL,
    attempts         int         NOT NULL,
    last_error       text        NOT NULL,
    dead_lettered_at timestamptz NOT NULL
);
