package dev.outbox.postgres;

/**
 * The adapter's SQL, rendered once for one table. Only validated, quoted table names are spliced
 * in; every value is a bound parameter. Arrays are bound whole so that each operation is one
 * statement and one round trip however many entries it touches.
 */
final class Sql {

  /** The columns a claimed entry or a dead letter is rebuilt from. */
  private static final String ENTRY_COLUMNS =
      "id, namespace, msg_key, payload, headers::text AS headers, created_at";

  final String publish;
  final String claim;
  final String claimCandidates;
  final String delete;
  final String renew;
  final String fail;
  final String deadLetter;
  final String deadLetters;
  final String requeue;
  final String requeueAll;
  final String purge;
  final String purgeAll;
  final String stats;

  /**
   * @param table the validated table name
   * @param notify whether writes that make entries available also signal the channel bound as
   *     {@code :channel}
   */
  Sql(TableName table, boolean notify) {
    String t = table.sql();
    String dead = table.deadLetterSql();

    // unnest keeps the list order (WITH ORDINALITY makes it explicit), and the identity values are
    // drawn in the order the rows are inserted: the first message gets the smallest id.
    publish =
        "WITH ins AS (INSERT INTO "
            + t
            + " (namespace, msg_key, payload, headers, created_at, available_at)"
            + " SELECT m.namespace, m.msg_key, m.payload, CAST(m.headers AS jsonb), :now, :now"
            + " FROM unnest(CAST(:namespaces AS text[]), CAST(:keys AS bytea[]),"
            + " CAST(:payloads AS bytea[]), CAST(:headers AS text[]))"
            + " WITH ORDINALITY AS m(namespace, msg_key, payload, headers, ord)"
            + " ORDER BY m.ord RETURNING 1) "
            + countAndNotify(notify);

    claimCandidates =
        "SELECT id FROM "
            + t
            + " WHERE available_at <= :now ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED";
    // The CTE locks at most :limit rows, skipping those another claimer holds; the UPDATE then
    // finds each by primary key. RETURNING order is unspecified: the caller sorts by id.
    claim =
        "WITH c AS ("
            + claimCandidates
            + ") UPDATE "
            + t
            + " AS o SET processor_id = :processor, available_at = :deadline FROM c"
            + " WHERE o.id = c.id RETURNING o.id, o.namespace, o.msg_key, o.payload,"
            + " o.headers::text AS headers, o.created_at, o.attempts";

    delete =
        "DELETE FROM "
            + t
            + " WHERE id = ANY(CAST(:ids AS bigint[])) AND processor_id = :processor";

    renew =
        "UPDATE "
            + t
            + " SET available_at = :deadline"
            + " WHERE id = ANY(CAST(:ids AS bigint[])) AND processor_id = :processor";

    fail =
        "UPDATE "
            + t
            + " AS o SET attempts = f.attempts, last_error = f.error, available_at = f.retry_at,"
            + " processor_id = NULL"
            + " FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS int[]),"
            + " CAST(CAST(:retryAts AS text[]) AS timestamptz[]), CAST(:errors AS text[]))"
            + " AS f(id, attempts, retry_at, error)"
            + " WHERE o.id = f.id AND o.processor_id = :processor";

    // One statement, so the move is atomic: a row leaves the outbox only if it lands here.
    deadLetter =
        "WITH f AS (SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS int[]),"
            + " CAST(:errors AS text[])) AS f(id, attempts, error)),"
            + " moved AS (DELETE FROM "
            + t
            + " AS o USING f WHERE o.id = f.id AND o.processor_id = :processor"
            + " RETURNING o.id, o.namespace, o.msg_key, o.payload, o.headers, o.created_at,"
            + " f.attempts, f.error)"
            + " INSERT INTO "
            + dead
            + " (id, namespace, msg_key, payload, headers, created_at, attempts, last_error,"
            + " dead_lettered_at)"
            + " SELECT id, namespace, msg_key, payload, headers, created_at, attempts, error, :now"
            + " FROM moved";

    deadLetters =
        "SELECT "
            + ENTRY_COLUMNS
            + ", attempts, last_error, dead_lettered_at FROM "
            + dead
            + " WHERE id > :afterId ORDER BY id LIMIT :limit";

    requeue = requeue(t, dead, " WHERE id = ANY(CAST(:ids AS bigint[]))", notify);
    requeueAll = requeue(t, dead, "", notify);

    purge = "DELETE FROM " + dead + " WHERE id = ANY(CAST(:ids AS bigint[]))";
    purgeAll = "DELETE FROM " + dead;

    // One pass over the outbox plus a count of the dead letters, in one round trip.
    stats =
        "SELECT count(*) AS pending, count(*) FILTER (WHERE processor_id IS NOT NULL AND"
            + " available_at > :now) AS claimed, count(*) FILTER (WHERE attempts > 0) AS failing,"
            + " min(created_at) AS oldest, (SELECT count(*) FROM "
            + dead
            + ") AS dead_letters"
            + " FROM "
            + t;
  }

  private static String requeue(String t, String dead, String where, boolean notify) {
    return "WITH moved AS (DELETE FROM "
        + dead
        + where
        + " RETURNING id, namespace, msg_key, payload, headers, created_at),"
        + " ins AS (INSERT INTO "
        + t
        + " (id, namespace, msg_key, payload, headers, created_at, available_at, attempts)"
        + " OVERRIDING SYSTEM VALUE"
        + " SELECT id, namespace, msg_key, payload, headers, created_at, :now, 0 FROM moved"
        + " RETURNING 1) "
        + countAndNotify(notify);
  }

  /**
   * Counts the rows of the {@code ins} CTE and, when asked, signals the channel once (not per row).
   * A notification is delivered only when the transaction commits, so listeners never wake for a
   * rollback.
   */
  private static String countAndNotify(boolean notify) {
    return notify
        ? "SELECT count(*) AS n, CASE WHEN count(*) > 0 THEN pg_notify(:channel, '') END AS"
            + " notified FROM ins"
        : "SELECT count(*) AS n FROM ins";
  }
}
