-- Outbox tables for MySQL 8.0+ and MariaDB 10.6+ (dev.outbox:outbox-jdbc, JdbcDialect.mysql();
-- also used by dev.outbox:outbox-jdbi-mysql).
--
-- Usable as-is from Flyway or Liquibase for the default table name outbox; for another name,
-- replace outbox and outbox_dead_letters below, or take the storage's schemaSql(), or call its
-- createSchema(). Every statement is idempotent.
--
-- Times are DATETIME(6) holding UTC: the storage binds and reads them as UTC text and
-- LocalDateTime values, so neither the session's time_zone nor the JVM's matters.
--
-- No index on available_at on purpose: the claim walks the primary key in order
-- (WHERE available_at <= ? ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED) and stops after n rows,
-- statistics find the oldest entry by the primary key, and every later change addresses rows by
-- id. An index on available_at would be one more structure each claim and renewal must lock and
-- rewrite, a classic source of InnoDB deadlocks.
--
-- The one secondary index, order_idx on (order_key, id), serves the ordered claim
-- (JdbcStorage.builder(...).ordering(BY_KEY or BY_KEY_BLOCKING)): is an older entry of this key
-- left, and which entries follow a head. It does not bring those deadlocks back: order_key never
-- changes after the insert, so claims, renewals and releases (which rewrite available_at,
-- claim_token, attempts) never touch the index; only inserts and deletes do, and the storage's
-- own locking reads address rows by primary key. An unordered storage writes NULL there; InnoDB
-- still keeps an index entry per row (MySQL has no partial indexes), a few bytes per insert.
--
-- max_allowed_packet: a message needs about twice its size there (measured on MariaDB 10.11:
-- at the 16 MiB default a 7 MiB payload is written and a 9 MiB one is refused).

CREATE TABLE IF NOT EXISTS outbox (
  id           BIGINT       NOT NULL AUTO_INCREMENT,
  message_id   BINARY(16)   NOT NULL,  -- the message's identity (UUID v7, big-endian bytes)
  namespace    VARCHAR(255) NOT NULL,
  msg_key      LONGBLOB     NULL,      -- NULL: no key; an empty value: the empty key
  payload      LONGBLOB     NOT NULL,
  headers      LONGTEXT     NOT NULL,  -- a flat JSON object of strings, e.g. {"traceparent":"00-..."}
  created_at   DATETIME(6)  NOT NULL,  -- UTC; the writer's clock at publish; statistics only
  available_at DATETIME(6)  NOT NULL,  -- UTC; claimable when <= now; fresh entries hold the epoch
  attempts     INT          NOT NULL DEFAULT 0,
  claim_token  BINARY(16)   NULL,      -- the current claim; every change after a claim is fenced by it
  processor_id VARCHAR(200) NULL,      -- the last claimer, for operators
  last_error   TEXT         NULL,
  order_key    BIGINT       NULL,      -- ordered storages only: a 64-bit hash of (namespace, key)
  PRIMARY KEY (id),
  KEY order_idx (order_key, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS outbox_dead_letters (
  id               BIGINT       NOT NULL,  -- the id the entry had in the outbox, kept on requeue
  message_id       BINARY(16)   NOT NULL,
  namespace        VARCHAR(255) NOT NULL,
  msg_key          LONGBLOB     NULL,
  payload          LONGBLOB     NOT NULL,
  headers          LONGTEXT     NOT NULL,
  created_at       DATETIME(6)  NOT NULL,  -- UTC
  attempts         INT          NOT NULL,
  last_error       TEXT         NOT NULL,
  dead_lettered_at DATETIME(6)  NOT NULL,  -- UTC
  order_key        BIGINT       NULL,      -- kept from the outbox, and put back on requeue
  PRIMARY KEY (id),
  KEY order_idx (order_key)                -- BY_KEY_BLOCKING: a key with a dead letter is held back
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The ordered publish's per-key lock (GET_LOCK is session-scoped, unsafe with pooled
-- connections): a publish in an ordered storage upserts the row of each of its keys' stripes
-- (order_key mod 65536), in stripe order, inside the caller's transaction, and so holds its row
-- lock until that transaction ends. Rows are created on first use; the table never grows beyond
-- 65536 rows. Two keys that share a stripe only serialize their writers.
CREATE TABLE IF NOT EXISTS outbox_key_locks (
  stripe INT NOT NULL,
  PRIMARY KEY (stripe)
) ENGINE=InnoDB;
