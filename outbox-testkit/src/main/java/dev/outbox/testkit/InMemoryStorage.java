package dev.outbox.testkit;

import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.FailedEntry;
import dev.outbox.Message;
import dev.outbox.OutboxStats;
import dev.outbox.ProcessorStorage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A {@link ProcessorStorage} in memory, for tests of code that uses an outbox and of the core
 * itself. It honours claims, deadlines, fencing, batch limits, backoff and dead letters exactly as
 * a database adapter must (it passes the same {@link ProcessorStorageContract}).
 *
 * <p>It has no transactions: {@link #publish} writes at once, and the {@code txn} argument, which
 * may be any non-null object, is otherwise ignored. Thread-safe.
 *
 * @param <T> the transaction handle type the code under test passes
 */
public final class InMemoryStorage<T> implements ProcessorStorage<T> {

  private static final class Row {
    final long id;
    final Message message;
    final Instant createdAt;
    int attempts;
    String processorId;
    Instant availableAt;
    String lastError;

    Row(long id, Message message, Instant createdAt, Instant availableAt) {
      this.id = id;
      this.message = message;
      this.createdAt = createdAt;
      this.availableAt = availableAt;
    }

    ClaimedEntry toEntry() {
      return new ClaimedEntry(id, message, createdAt, attempts);
    }
  }

  private final TreeMap<Long, Row> rows = new TreeMap<>();
  private final TreeMap<Long, DeadLetter> dead = new TreeMap<>();
  private long lastId;

  @Override
  public synchronized void publish(T txn, Instant now, List<Message> messages) {
    Objects.requireNonNull(txn, "txn");
    for (Message m : messages) {
      long id = ++lastId;
      rows.put(id, new Row(id, m, now, now));
    }
  }

  @Override
  public synchronized List<ClaimedEntry> claim(
      String processorId, Instant now, Instant deadline, int limit) {
    List<ClaimedEntry> claimed = new ArrayList<>(Math.min(limit, rows.size()));
    for (Row r : rows.values()) {
      if (claimed.size() == limit) {
        break;
      }
      if (!r.availableAt.isAfter(now)) {
        r.processorId = processorId;
        r.availableAt = deadline;
        claimed.add(r.toEntry());
      }
    }
    return claimed;
  }

  @Override
  public synchronized int delete(String processorId, Collection<Long> ids) {
    int n = 0;
    for (Long id : ids) {
      Row r = rows.get(id);
      if (r != null && processorId.equals(r.processorId)) {
        rows.remove(id);
        n++;
      }
    }
    return n;
  }

  @Override
  public synchronized int renew(String processorId, Collection<Long> ids, Instant deadline) {
    int n = 0;
    for (Long id : ids) {
      Row r = rows.get(id);
      if (r != null && processorId.equals(r.processorId)) {
        r.availableAt = deadline;
        n++;
      }
    }
    return n;
  }

  @Override
  public synchronized int fail(String processorId, List<FailedEntry> failures) {
    int n = 0;
    for (FailedEntry f : failures) {
      Row r = rows.get(f.id());
      if (r != null && processorId.equals(r.processorId)) {
        r.attempts = f.attempts();
        r.lastError = f.error();
        r.processorId = null;
        r.availableAt = f.retryAt();
        n++;
      }
    }
    return n;
  }

  @Override
  public boolean supportsDeadLetters() {
    return true;
  }

  @Override
  public synchronized int deadLetter(String processorId, List<FailedEntry> failures, Instant now) {
    int n = 0;
    for (FailedEntry f : failures) {
      Row r = rows.get(f.id());
      if (r != null && processorId.equals(r.processorId)) {
        rows.remove(f.id());
        dead.put(r.id, new DeadLetter(r.id, r.message, r.createdAt, f.attempts(), f.error(), now));
        n++;
      }
    }
    return n;
  }

  @Override
  public synchronized List<DeadLetter> deadLetters(long afterId, int limit) {
    List<DeadLetter> page = new ArrayList<>();
    for (DeadLetter d : dead.tailMap(afterId, false).values()) {
      if (page.size() == limit) {
        break;
      }
      page.add(d);
    }
    return page;
  }

  @Override
  public synchronized int requeueDeadLetters(Collection<Long> ids, Instant now) {
    int n = 0;
    for (Long id : ids) {
      DeadLetter d = dead.remove(id);
      if (d != null) {
        rows.put(id, new Row(id, d.message(), d.createdAt(), now));
        n++;
      }
    }
    return n;
  }

  @Override
  public synchronized int requeueAllDeadLetters(Instant now) {
    return requeueDeadLetters(new ArrayList<>(dead.keySet()), now);
  }

  @Override
  public synchronized int purgeDeadLetters(Collection<Long> ids) {
    int n = 0;
    for (Long id : ids) {
      if (dead.remove(id) != null) {
        n++;
      }
    }
    return n;
  }

  @Override
  public synchronized int purgeAllDeadLetters() {
    int n = dead.size();
    dead.clear();
    return n;
  }

  @Override
  public synchronized OutboxStats stats(Instant now) {
    long claimed = 0;
    long failing = 0;
    Instant oldest = null;
    for (Row r : rows.values()) {
      if (r.processorId != null && r.availableAt.isAfter(now)) {
        claimed++;
      }
      if (r.attempts > 0) {
        failing++;
      }
      if (oldest == null || r.createdAt.isBefore(oldest)) {
        oldest = r.createdAt;
      }
    }
    Duration age = oldest == null ? Duration.ZERO : Duration.between(oldest, now);
    return new OutboxStats(rows.size(), claimed, failing, dead.size(), age);
  }

  /** How many entries are in the outbox (claimed or not, dead letters excluded). */
  public synchronized int size() {
    return rows.size();
  }

  /** The entries in the outbox, oldest first, as they are now. */
  public synchronized List<ClaimedEntry> entries() {
    List<ClaimedEntry> all = new ArrayList<>(rows.size());
    for (Row r : rows.values()) {
      all.add(r.toEntry());
    }
    return all;
  }

  /** The last error recorded for each failing entry, by id. */
  public synchronized Map<Long, String> lastErrors() {
    Map<Long, String> errors = new TreeMap<>();
    for (Row r : rows.values()) {
      if (r.lastError != null) {
        errors.put(r.id, r.lastError);
      }
    }
    return errors;
  }

  /** Removes every entry and dead letter. */
  public synchronized void clear() {
    rows.clear();
    dead.clear();
  }
}
