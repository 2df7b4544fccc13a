package dev.outbox.jdbc;

import java.time.Instant;

/**
 * The statements both dialects share, rendered once for one table with the dialect's fragments.
 * Only validated, quoted table names are spliced in; every value is a bound parameter ({@code ?}).
 * Statements whose id list varies in length are built per call with {@link JdbcDialect#idIn}.
 */
final class Sql {

  /**
   * What {@code available_at} holds for a fresh or requeued entry: before every real time, so the
   * entry is claimable at once whatever the writer's or the claimer's clock says.
   */
  static final Instant AVAILABLE_AT_ONCE = Instant.EPOCH;

  final TableName table;
  final JdbcDialect dialect;
  final String t;
  final String dead;

  /** id, message_id, namespace, msg_key, payload, headers (as text), created_at. */
  final String entryColumns;

  final String insertOne;
  final String releaseOne;
  final String copyToDeadLetters;
  final String deadLetters;
  final String lockDeadLettersPage;
  final String purgeDeadLettersPage;
  final String stats;

  /** Whether the storage keeps keys in order: then order_key is written, copied and kept. */
  final boolean ordered;

  Sql(TableName table, JdbcDialect dialect) {
    this(table, dialect, false);
  }

  /**
   * @param ordered whether the storage keeps keys in order: its statements then write and carry
   *     {@code order_key}; an unordered storage's statements never name the column, so they run
   *     unchanged (and as fast) on tables of the schema before ordering
   */
  Sql(TableName table, JdbcDialect dialect, boolean ordered) {
    this.ordered = ordered;
    this.table = table;
    this.dialect = dialect;
    this.t = table.sql();
    this.dead = table.deadLetterSql();
    this.entryColumns =
        "id, message_id, namespace, msg_key, payload, "
            + dialect.headersAsText("headers")
            + ", created_at";
    insertOne =
        "INSERT INTO "
            + t
            + " (message_id, namespace, msg_key, payload, headers, created_at, available_at"
            + (ordered
                ? ", order_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                : ") VALUES (?, ?, ?, ?, ?, ?, ?)");
    releaseOne =
        "UPDATE "
            + t
            + " SET attempts = ?, last_error = ?, claim_token = NULL, available_at = ?"
            + " WHERE id = ? AND claim_token = ?";
    // Per entry: its own attempt count and error. The row was locked by the caller.
    copyToDeadLetters =
        "INSERT INTO "
            + dead
            + " (id, message_id, namespace, msg_key, payload, headers, created_at, attempts,"
            + " last_error, dead_lettered_at"
            + (ordered ? ", order_key" : "")
            + ") SELECT id, message_id, namespace, msg_key, payload, headers, created_at, ?, ?, ?"
            + (ordered ? ", order_key" : "")
            + " FROM "
            + t
            + " WHERE id = ?";
    deadLetters =
        "SELECT "
            + entryColumns
            + ", attempts, last_error, dead_lettered_at FROM "
            + dead
            + " WHERE id > ? ORDER BY id LIMIT ?";
    lockDeadLettersPage = "SELECT id FROM " + dead + " WHERE id > ? ORDER BY id LIMIT ? FOR UPDATE";
    purgeDeadLettersPage = dialect.purgeDeadLettersPage(table);
    // One round trip. The counts read the table once; the oldest pending entry is the one with
    // the smallest id, found by the primary key (no scan), and the dead letters are counted on
    // their primary key.
    stats =
        "SELECT COUNT(*) AS pending,"
            + " COALESCE(SUM(CASE WHEN claim_token IS NOT NULL AND available_at > ? THEN 1 ELSE 0"
            + " END), 0) AS claimed,"
            + " COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) AS failing,"
            + " ("
            + oldest()
            + ") AS oldest,"
            + " (SELECT COUNT(*) FROM "
            + dead
            + ") AS dead_letters"
            + " FROM "
            + t;
  }

  /** The creation time of the entry with the smallest id: a primary-key lookup, no scan. */
  String oldest() {
    return "SELECT created_at FROM " + t + " ORDER BY id LIMIT 1";
  }

  String delete(int n) {
    return "DELETE FROM " + t + " WHERE " + dialect.idIn("id", n) + " AND claim_token = ?";
  }

  String renew(int n) {
    return "UPDATE "
        + t
        + " SET available_at = ? WHERE "
        + dialect.idIn("id", n)
        + " AND claim_token = ?";
  }

  String lockClaimed(int n) {
    return "SELECT id FROM "
        + t
        + " WHERE "
        + dialect.idIn("id", n)
        + " AND claim_token = ? ORDER BY id FOR UPDATE";
  }

  String deleteEntries(int n) {
    return "DELETE FROM " + t + " WHERE " + dialect.idIn("id", n);
  }

  String lockDeadLetters(int n) {
    return "SELECT id FROM " + dead + " WHERE " + dialect.idIn("id", n) + " ORDER BY id FOR UPDATE";
  }

  String copyBack(int n) {
    return "INSERT INTO "
        + t
        + " (id, message_id, namespace, msg_key, payload, headers, created_at, available_at,"
        + " attempts"
        + (ordered ? ", order_key" : "")
        + ")"
        + dialect.overridingIdentity()
        + " SELECT id, message_id, namespace, msg_key, payload, headers, created_at, ?, 0"
        + (ordered ? ", order_key" : "")
        + " FROM "
        + dead
        + " WHERE "
        + dialect.idIn("id", n)
        + " ORDER BY id";
  }

  // ---------------------------------------------------------------- ordered storages

  /**
   * The keys dead letters block, at most {@code ?}, ordered by their smallest dead letter's id,
   * with that id. Dead letters are few; this reads them all.
   */
  String blockedKeys() {
    return "SELECT order_key, MIN(id) AS first_id FROM "
        + dead
        + " WHERE order_key IS NOT NULL GROUP BY order_key ORDER BY first_id LIMIT ?";
  }

  /** The dead letters of {@code n} order keys, smallest id first, with their namespace and key. */
  String deadLettersOfKeys(int n) {
    return "SELECT id, order_key, namespace, msg_key FROM "
        + dead
        + " WHERE "
        + dialect.idIn("order_key", n)
        + " ORDER BY id";
  }

  /** How many outbox entries each of {@code n} order keys has. */
  String waitingOfKeys(int n) {
    return "SELECT order_key, COUNT(*) AS waiting FROM "
        + t
        + " WHERE "
        + dialect.idIn("order_key", n)
        + " GROUP BY order_key";
  }

  String deleteDeadLetters(int n) {
    return "DELETE FROM " + dead + " WHERE " + dialect.idIn("id", n);
  }

  /**
   * A failure description as a storage can always keep it: NULs and lone surrogates (which the core
   * already removes) become U+FFFD, so recording a failure can never be refused for its text. For
   * descriptions only, never for message data.
   */
  static String description(String error) {
    StringBuilder out = null;
    for (int i = 0; i < error.length(); i++) {
      char c = error.charAt(i);
      boolean pair =
          Character.isHighSurrogate(c)
              && i + 1 < error.length()
              && Character.isLowSurrogate(error.charAt(i + 1));
      boolean bad = !pair && (c == '\0' || Character.isSurrogate(c));
      if (bad && out == null) {
        out = new StringBuilder(error.length()).append(error, 0, i);
      }
      if (out != null) {
        out.append(bad ? '\uFFFD' : c);
        if (pair) {
          out.append(error.charAt(i + 1));
        }
      }
      if (pair) {
        i++;
      }
    }
    return out == null ? error : out.toString();
  }
}
