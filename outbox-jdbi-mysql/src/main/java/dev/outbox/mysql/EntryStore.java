package dev.outbox.mysql;

import dev.outbox.ClaimedEntry;
import dev.outbox.FailedEntry;
import dev.outbox.Message;
import dev.outbox.OutboxException;
import dev.outbox.internal.HeadersJson;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * The outbox side of {@link MySqlStorage}: writing, claiming, and the fenced changes after a claim.
 * Rows are always addressed in primary-key order, so two transactions that lock several of the same
 * rows take them in the same order and cannot wait for each other in a cycle.
 */
final class EntryStore {

  private final TableName table;
  private final Sql sql;
  private final StorageTransactions tx;

  EntryStore(TableName table, Sql sql, StorageTransactions tx) {
    this.table = table;
    this.sql = sql;
    this.tx = tx;
  }

  /** One batched INSERT in the caller's transaction; ids increase in list order. */
  void insert(Handle txn, Instant now, List<Message> messages) {
    Argument at = Rows.utc(now);
    try {
      PreparedBatch batch = txn.prepareBatch(sql.insert);
      for (Message m : messages) {
        batch
            .bind("namespace", m.namespace())
            .bind("key", m.key())
            .bind("payload", m.payload())
            .bind("headers", HeadersJson.encode(m.headers()))
            .bind("now", at)
            .add();
      }
      batch.execute();
    } catch (JdbiException e) {
      // Not retried here: the caller's transaction is not ours to repeat.
      StorageTransactions.Conflict conflict = StorageTransactions.Conflict.of(e);
      String hint =
          conflict == null
              ? ""
              : " (a "
                  + conflict.description
                  + ": roll back and retry your whole transaction; after a deadlock InnoDB has"
                  + " rolled it back already)";
      throw new OutboxException(
          "could not write "
              + messages.size()
              + " message(s) to table "
              + table
              + ": "
              + StorageTransactions.describe(e)
              + hint,
          e);
    }
  }

  /**
   * Two statements in one transaction: MySQL and MariaDB refuse {@code LIMIT} in an {@code IN}
   * subquery, so the ids are selected and locked first, then marked.
   */
  List<ClaimedEntry> claim(String processorId, Instant now, Instant deadline, int limit) {
    Argument nowArg = Rows.utc(now);
    Argument deadlineArg = Rows.utc(deadline);
    return tx.inTransaction(
        "claim entries",
        h -> {
          List<ClaimedEntry> entries =
              h.createQuery(sql.selectClaimable)
                  .bind("now", nowArg)
                  .bind("limit", limit)
                  .map((rs, ctx) -> Rows.entry(rs))
                  .list();
          if (!entries.isEmpty()) {
            h.createUpdate(sql.markClaimed)
                .bind("processorId", processorId)
                .bind("deadline", deadlineArg)
                .bindList("ids", entries.stream().map(ClaimedEntry::id).toList())
                .execute();
          }
          return entries;
        });
  }

  int delete(String processorId, Collection<Long> ids) {
    return fenced("delete entries", sql.delete, processorId, ids, null);
  }

  int renew(String processorId, Collection<Long> ids, Instant deadline) {
    return fenced("renew claims", sql.renew, processorId, ids, Rows.utc(deadline));
  }

  private int fenced(
      String operation, String statement, String processorId, Collection<Long> ids, Argument at) {
    if (ids.isEmpty()) {
      return 0;
    }
    List<Long> sorted = ids.stream().distinct().sorted().toList();
    return tx.inTransaction(
        operation,
        h -> {
          var update =
              h.createUpdate(statement).bindList("ids", sorted).bind("processorId", processorId);
          if (at != null) {
            update.bind("deadline", at);
          }
          return update.execute();
        });
  }

  int fail(String processorId, List<FailedEntry> failures) {
    if (failures.isEmpty()) {
      return 0;
    }
    List<FailedEntry> sorted =
        failures.stream().sorted(Comparator.comparingLong(FailedEntry::id)).toList();
    return tx.inTransaction(
        "record failed attempts",
        h -> {
          PreparedBatch batch = h.prepareBatch(sql.fail);
          for (FailedEntry f : sorted) {
            batch
                .bind("attempts", f.attempts())
                .bind("error", f.error())
                .bind("retryAt", Rows.utc(f.retryAt()))
                .bind("id", f.id())
                .bind("processorId", processorId)
                .add();
          }
          int updated = 0;
          for (int n : batch.execute()) {
            updated += Math.max(n, 0);
          }
          return updated;
        });
  }
}
