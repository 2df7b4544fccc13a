package dev.outbox.mysql;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The statements of one outbox table, as readable text. Table names come from a validated {@link
 * TableName}; every value is a bound parameter ({@code :name}, or {@code <ids>} for a Jdbi bound
 * list).
 */
final class Sql {

  static final String SCHEMA_RESOURCE = "/dev/outbox/mysql/schema.sql";

  /** The first statement of every storage transaction; see {@link StorageTransactions}. */
  static final String READ_COMMITTED = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED";

  private static final String ENTRY_COLUMNS =
      "id, namespace, msg_key, payload, headers, created_at, attempts";

  final String insert;
  final String selectClaimable;
  final String markClaimed;
  final String delete;
  final String renew;
  final String fail;
  final String lockOwned;
  final String copyToDeadLetters;
  final String deleteByIds;
  final String listDeadLetters;
  final String lockDeadLetters;
  final String lockDeadLettersPage;
  final String copyBackFromDeadLetters;
  final String deleteDeadLetters;
  final String deleteDeadLettersPage;
  final String stats;

  Sql(TableName name) {
    String t = name.outbox();
    String dl = name.deadLetters();
    insert =
        "INSERT INTO "
            + t
            + " (namespace, msg_key, payload, headers, created_at, available_at)"
            + " VALUES (:namespace, :key, :payload, :headers, :now, :now)";
    // SKIP LOCKED needs an explicit transaction: under auto-commit the locks would be gone before
    // the UPDATE below. Walking the primary key in order stops after :limit available rows.
    selectClaimable =
        "SELECT "
            + ENTRY_COLUMNS
            + " FROM "
            + t
            + " WHERE available_at <= :now ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED";
    markClaimed =
        "UPDATE "
            + t
            + " SET processor_id = :processorId, available_at = :deadline"
            + " WHERE id IN (<ids>)";
    delete = "DELETE FROM " + t + " WHERE id IN (<ids>) AND processor_id = :processorId";
    renew =
        "UPDATE "
            + t
            + " SET available_at = :deadline"
            + " WHERE id IN (<ids>) AND processor_id = :processorId";
    fail =
        "UPDATE "
            + t
            + " SET attempts = :attempts, last_error = :error, processor_id = NULL,"
            + " available_at = :retryAt WHERE id = :id AND processor_id = :processorId";
    lockOwned =
        "SELECT id FROM "
            + t
            + " WHERE id IN (<ids>) AND processor_id = :processorId ORDER BY id FOR UPDATE";
    copyToDeadLetters =
        "INSERT INTO "
            + dl
            + " (id, namespace, msg_key, payload, headers, created_at, attempts, last_error,"
            + " dead_lettered_at) SELECT id, namespace, msg_key, payload, headers, created_at,"
            + " :attempts, :error, :now FROM "
            + t
            + " WHERE id = :id";
    deleteByIds = "DELETE FROM " + t + " WHERE id IN (<ids>)";
    listDeadLetters =
        "SELECT "
            + ENTRY_COLUMNS
            + ", last_error, dead_lettered_at FROM "
            + dl
            + " WHERE id > :afterId ORDER BY id LIMIT :limit";
    lockDeadLetters = "SELECT id FROM " + dl + " WHERE id IN (<ids>) ORDER BY id FOR UPDATE";
    lockDeadLettersPage =
        "SELECT id FROM " + dl + " WHERE id > :afterId ORDER BY id LIMIT :limit FOR UPDATE";
    copyBackFromDeadLetters =
        "INSERT INTO "
            + t
            + " (id, namespace, msg_key, payload, headers, created_at, available_at, attempts)"
            + " SELECT id, namespace, msg_key, payload, headers, created_at, :now, 0 FROM "
            + dl
            + " WHERE id IN (<ids>) ORDER BY id";
    deleteDeadLetters = "DELETE FROM " + dl + " WHERE id IN (<ids>)";
    deleteDeadLettersPage = "DELETE FROM " + dl + " ORDER BY id LIMIT :limit";
    // One round trip, one scan of the outbox; the dead-letter count reads its primary key.
    stats =
        "SELECT COUNT(*) AS pending,"
            + " COALESCE(SUM(processor_id IS NOT NULL AND available_at > :now), 0) AS claimed,"
            + " COALESCE(SUM(attempts > 0), 0) AS failing,"
            + " MIN(created_at) AS oldest,"
            + " (SELECT COUNT(*) FROM "
            + dl
            + ") AS dead_letters"
            + " FROM "
            + t;
  }

  /** The schema file with the table names replaced, as one script. */
  static String schema(TableName name) {
    String text;
    try (InputStream in = Sql.class.getResourceAsStream(SCHEMA_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("resource " + SCHEMA_RESOURCE + " is missing from the jar");
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + SCHEMA_RESOURCE, e);
    }
    return text.replace("`outbox_dead_letters`", name.deadLetters())
        .replace("`outbox`", name.outbox());
  }

  /** The schema's statements, comments removed, for executing one by one. */
  static List<String> schemaStatements(TableName name) {
    StringBuilder code = new StringBuilder();
    for (String line : schema(name).split("\n", -1)) {
      int comment = line.indexOf("--");
      code.append(comment < 0 ? line : line.substring(0, comment)).append('\n');
    }
    List<String> statements = new ArrayList<>();
    for (String s : code.toString().split(";")) {
      if (!s.isBlank()) {
        statements.add(s.strip());
      }
    }
    return statements;
  }
}
