package dev.outbox.mysql;

import dev.outbox.DeadLetter;
import dev.outbox.FailedEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * The dead-letter side of {@link MySqlStorage}: moving entries out of the outbox, listing,
 * requeueing and purging them. Every move locks the rows it moves first ({@code SELECT ... FOR
 * UPDATE}), so a row is copied and deleted exactly when it is still there (and, for dead-lettering,
 * still claimed by the caller); under READ COMMITTED an {@code INSERT ... SELECT} alone would read
 * without locking. Large requests are split into transactions of {@value #CHUNK} rows.
 */
final class DeadLetterStore {

  /** Rows per transaction for requeue and purge, and ids per IN list. */
  static final int CHUNK = 1000;

  private final Sql sql;
  private final StorageTransactions tx;

  DeadLetterStore(Sql sql, StorageTransactions tx) {
    this.sql = sql;
    this.tx = tx;
  }

  int deadLetter(String processorId, List<FailedEntry> failures, Instant now) {
    int moved = 0;
    for (List<FailedEntry> chunk : chunks(sortedById(failures))) {
      moved += tx.inTransaction("dead-letter entries", h -> moveOwned(h, processorId, chunk, now));
    }
    return moved;
  }

  private int moveOwned(Handle h, String processorId, List<FailedEntry> failures, Instant now) {
    Map<Long, FailedEntry> byId =
        failures.stream()
            .collect(Collectors.toMap(FailedEntry::id, Function.identity(), (a, b) -> b));
    List<Long> owned =
        h.createQuery(sql.lockOwned)
            .bindList("ids", new ArrayList<>(byId.keySet()))
            .bind("processorId", processorId)
            .mapTo(Long.class)
            .list();
    if (owned.isEmpty()) {
      return 0;
    }
    Argument at = Rows.utc(now);
    PreparedBatch copy = h.prepareBatch(sql.copyToDeadLetters);
    for (Long id : owned) {
      FailedEntry f = byId.get(id);
      copy.bind("id", id)
          .bind("attempts", f.attempts())
          .bind("error", f.error())
          .bind("now", at)
          .add();
    }
    copy.execute();
    return h.createUpdate(sql.deleteByIds).bindList("ids", owned).execute();
  }

  List<DeadLetter> list(long afterId, int limit) {
    return tx.withHandle(
        "list dead letters",
        h ->
            h.createQuery(sql.listDeadLetters)
                .bind("afterId", afterId)
                .bind("limit", limit)
                .map((rs, ctx) -> Rows.deadLetter(rs))
                .list());
  }

  int requeue(Collection<Long> ids, Instant now) {
    int moved = 0;
    for (List<Long> chunk : chunks(ids.stream().distinct().sorted().toList())) {
      moved +=
          tx.inTransaction(
              "requeue dead letters",
              h -> {
                List<Long> locked =
                    h.createQuery(sql.lockDeadLetters)
                        .bindList("ids", chunk)
                        .mapTo(Long.class)
                        .list();
                copyBack(h, locked, now);
                return locked.size();
              });
    }
    return moved;
  }

  int requeueAll(Instant now) {
    int moved = 0;
    long afterId = 0;
    while (true) {
      long after = afterId;
      List<Long> chunk =
          tx.inTransaction(
              "requeue dead letters",
              h -> {
                List<Long> locked =
                    h.createQuery(sql.lockDeadLettersPage)
                        .bind("afterId", after)
                        .bind("limit", CHUNK)
                        .mapTo(Long.class)
                        .list();
                copyBack(h, locked, now);
                return locked;
              });
      moved += chunk.size();
      if (chunk.size() < CHUNK) {
        return moved;
      }
      afterId = chunk.get(chunk.size() - 1);
    }
  }

  private void copyBack(Handle h, List<Long> locked, Instant now) {
    if (locked.isEmpty()) {
      return;
    }
    h.createUpdate(sql.copyBackFromDeadLetters)
        .bindList("ids", locked)
        .bind("now", Rows.utc(now))
        .execute();
    h.createUpdate(sql.deleteDeadLetters).bindList("ids", locked).execute();
  }

  int purge(Collection<Long> ids) {
    int purged = 0;
    for (List<Long> chunk : chunks(ids.stream().distinct().sorted().toList())) {
      purged +=
          tx.inTransaction(
              "purge dead letters",
              h -> h.createUpdate(sql.deleteDeadLetters).bindList("ids", chunk).execute());
    }
    return purged;
  }

  int purgeAll() {
    int purged = 0;
    while (true) {
      int n =
          tx.inTransaction(
              "purge dead letters",
              h -> h.createUpdate(sql.deleteDeadLettersPage).bind("limit", CHUNK).execute());
      purged += n;
      if (n < CHUNK) {
        return purged;
      }
    }
  }

  private static List<FailedEntry> sortedById(List<FailedEntry> failures) {
    return failures.stream().sorted(Comparator.comparingLong(FailedEntry::id)).toList();
  }

  /** Splits a list into sublists of at most {@link #CHUNK} elements; none for an empty list. */
  static <E> List<List<E>> chunks(List<E> all) {
    List<List<E>> chunks = new ArrayList<>();
    for (int from = 0; from < all.size(); from += CHUNK) {
      chunks.add(all.subList(from, Math.min(all.size(), from + CHUNK)));
    }
    return chunks;
  }
}
