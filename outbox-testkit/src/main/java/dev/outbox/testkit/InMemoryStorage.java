package dev.outbox.testkit;

import dev.outbox.BlockedKey;
import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.DeadLetterStorage;
import dev.outbox.FailedEntry;
import dev.outbox.Message;
import dev.outbox.NewEntry;
import dev.outbox.Ordering;
import dev.outbox.OutboxStats;
import dev.outbox.ProcessorStorage;
import dev.outbox.StatisticsStorage;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A {@link ProcessorStorage} in memory, for tests of code that uses an outbox and of the core
 * itself. It honours claims, deadlines, fencing, batch limits, backoff and dead letters exactly as
 * a database adapter must (it passes the same {@link ProcessorStorageContract}), and it keeps dead
 * letters and statistics.
 *
 * <h2>Transactions</h2>
 *
 * {@link #begin()} opens a {@link Transaction}. Entries {@link #publish published} with it are
 * invisible to {@link #claim} until {@link Transaction#commit()}, and discarded by {@link
 * Transaction#rollback()} (or by {@link Transaction#close()} before a commit); they get their ids
 * at commit, in order, so a later commit always has larger ids:
 *
 * <pre>{@code
 * InMemoryStorage<InMemoryStorage.Transaction> storage = new InMemoryStorage<>();
 * try (InMemoryStorage.Transaction tx = storage.begin()) {
 *   outbox.publish(tx, message);
 *   tx.commit();
 * }
 * }</pre>
 *
 * <p>Any other non-null {@code txn} (tests that do not care about transactions often pass {@code
 * new Object()}) is an auto-committed transaction: the entries are written at once and cannot be
 * rolled back.
 *
 * <h2>Ordering</h2>
 *
 * {@code new InMemoryStorage<>(Ordering.BY_KEY)} (or {@code BY_KEY_BLOCKING}) keeps each key's
 * messages in order as the {@link Ordering} contract says. Ids are drawn at commit, so a key's id
 * order is its commit order without any lock.
 *
 * <p>Thread-safe: every method, {@link Transaction}'s included, holds this storage's lock.
 *
 * @param <T> the transaction handle type the code under test passes
 */
public final class InMemoryStorage<T>
    implements ProcessorStorage<T>, DeadLetterStorage, StatisticsStorage {

  /** Fresh entries are available at once, whatever the claimer's clock says. */
  private static final Instant FRESH = Instant.EPOCH;

  private static final class Row {
    final long id;
    final UUID messageId;
    final Message message;
    final Instant createdAt;
    int attempts;
    UUID claimToken;
    Instant availableAt;
    String lastError;

    Row(long id, UUID messageId, Message message, Instant createdAt) {
      this.id = id;
      this.messageId = messageId;
      this.message = message;
      this.createdAt = createdAt;
      this.availableAt = FRESH;
    }

    ClaimedEntry toEntry() {
      return ClaimedEntry.builder()
          .id(id)
          .messageId(messageId)
          .message(message)
          .createdAt(createdAt)
          .attempts(attempts)
          .build();
    }
  }

  private final Ordering ordering;
  private final TreeMap<Long, Row> rows = new TreeMap<>();
  private final TreeMap<Long, DeadLetter> dead = new TreeMap<>();
  private long lastId;

  /**
   * A transaction of one {@link InMemoryStorage}: what is published with it becomes claimable at
   * {@link #commit()} and is discarded at {@link #rollback()}. Single use; thread-safe.
   */
  public static final class Transaction implements AutoCloseable {
    private final InMemoryStorage<?> storage;
    private final List<NewEntry> writes = new ArrayList<>();
    private String state = "open";

    private Transaction(InMemoryStorage<?> storage) {
      this.storage = storage;
    }

    /**
     * Makes every entry published with this transaction claimable, with ids larger than any before.
     *
     * @throws IllegalStateException when the transaction was already committed or rolled back
     */
    public void commit() {
      synchronized (storage) {
        requireOpen("commit");
        storage.write(writes);
        writes.clear();
        state = "committed";
      }
    }

    /**
     * Discards every entry published with this transaction.
     *
     * @throws IllegalStateException when the transaction was already committed or rolled back
     */
    public void rollback() {
      synchronized (storage) {
        requireOpen("roll back");
        writes.clear();
        state = "rolled back";
      }
    }

    /** Rolls back unless the transaction was committed or rolled back already. */
    @Override
    public void close() {
      synchronized (storage) {
        if (state.equals("open")) {
          rollback();
        }
      }
    }

    /** Whether neither {@link #commit()} nor {@link #rollback()} has been called yet. */
    public boolean isOpen() {
      synchronized (storage) {
        return state.equals("open");
      }
    }

    private void add(List<NewEntry> entries) {
      requireOpen("publish in");
      writes.addAll(entries);
    }

    private void requireOpen(String action) {
      if (!state.equals("open")) {
        throw new IllegalStateException("cannot " + action + " a transaction already " + state);
      }
    }

    @Override
    public String toString() {
      synchronized (storage) {
        return "InMemoryStorage.Transaction{" + state + ", " + writes.size() + " pending entries}";
      }
    }
  }

  /** A storage without ordering ({@link Ordering#NONE}). */
  public InMemoryStorage() {
    this(Ordering.NONE);
  }

  /** A storage with the given ordering; see the class comment. */
  public InMemoryStorage(Ordering ordering) {
    this.ordering = Objects.requireNonNull(ordering, "ordering");
  }

  @Override
  public Ordering ordering() {
    return ordering;
  }

  /** Opens a transaction of this storage; see {@link Transaction}. */
  public Transaction begin() {
    return new Transaction(this);
  }

  /**
   * Writes entries in {@code txn}: visible at its commit when it is a {@link Transaction} of this
   * storage, at once for any other object (see the class comment).
   *
   * @throws IllegalStateException when {@code txn} is a transaction already committed or rolled
   *     back
   * @throws IllegalArgumentException when {@code txn} is a transaction of another storage
   */
  @Override
  public synchronized void publish(T txn, List<NewEntry> entries) {
    Objects.requireNonNull(txn, "txn");
    Objects.requireNonNull(entries, "entries");
    if (txn instanceof Transaction t) {
      if (t.storage != this) {
        throw new IllegalArgumentException(
            "txn " + t + " was begun by another InMemoryStorage, not this one");
      }
      t.add(entries);
    } else {
      write(entries);
    }
  }

  private synchronized void write(List<NewEntry> entries) {
    for (NewEntry e : entries) {
      long id = ++lastId;
      rows.put(id, new Row(id, e.messageId(), e.message(), e.createdAt()));
    }
  }

  /**
   * Writes messages as {@code Outbox.publish} would, each with a fresh message id, created at
   * {@code createdAt}: a shortcut for tests that fill the storage without an outbox.
   */
  public void publish(T txn, Instant createdAt, List<Message> messages) {
    publish(
        txn, messages.stream().map(m -> new NewEntry(UUID.randomUUID(), m, createdAt)).toList());
  }

  @Override
  public synchronized List<ClaimedEntry> claim(ClaimRequest request) {
    List<ClaimedEntry> claimed = new ArrayList<>(Math.min(request.limit(), rows.size()));
    // Ordered: how many of a key's entries this claim took, or -1 once the key is held back.
    Map<List<Object>, Integer> keys = new HashMap<>();
    if (ordering == Ordering.BY_KEY_BLOCKING) {
      for (DeadLetter d : dead.values()) {
        List<Object> k = orderKey(d.message());
        if (k != null) {
          keys.put(k, -1);
        }
      }
    }
    for (Row r : rows.values()) {
      if (claimed.size() == request.limit()) {
        break;
      }
      boolean available = !r.availableAt.isAfter(request.now());
      List<Object> k = ordering.byKey() ? orderKey(r.message) : null;
      if (k != null) {
        int taken = keys.getOrDefault(k, 0);
        if (taken < 0 || !available || taken >= request.maxPerKey()) {
          keys.put(k, -1); // an older entry of the key stays behind: the rest wait for it
          continue;
        }
        keys.put(k, taken + 1);
      }
      if (available) {
        r.claimToken = request.claimToken();
        r.availableAt = request.deadline();
        claimed.add(r.toEntry());
      }
    }
    return claimed;
  }

  /** Namespace and key, or null for a message without a key. */
  private static List<Object> orderKey(Message m) {
    byte[] key = m.key();
    return key == null ? null : List.of(m.namespace(), ByteBuffer.wrap(key));
  }

  @Override
  public synchronized List<BlockedKey> blockedKeys(int limit) {
    if (ordering != Ordering.BY_KEY_BLOCKING) {
      return List.of();
    }
    Map<List<Object>, List<Long>> blocking = new LinkedHashMap<>();
    Map<List<Object>, byte[]> keyBytes = new HashMap<>();
    for (DeadLetter d : dead.values()) {
      List<Object> k = orderKey(d.message());
      if (k != null) {
        blocking.computeIfAbsent(k, x -> new ArrayList<>()).add(d.id());
        keyBytes.put(k, d.message().key());
      }
    }
    List<BlockedKey> result = new ArrayList<>();
    for (Map.Entry<List<Object>, List<Long>> b : blocking.entrySet()) {
      if (result.size() == limit) {
        break;
      }
      long waiting =
          rows.values().stream().filter(r -> b.getKey().equals(orderKey(r.message))).count();
      result.add(
          new BlockedKey(
              (String) b.getKey().get(0), keyBytes.get(b.getKey()), b.getValue(), waiting));
    }
    return result;
  }

  private Row claimed(UUID token, long id) {
    Row r = rows.get(id);
    return r != null && token.equals(r.claimToken) ? r : null;
  }

  @Override
  public synchronized int delete(UUID claimToken, Collection<Long> ids) {
    int n = 0;
    for (Long id : ids) {
      if (claimed(claimToken, id) != null) {
        rows.remove(id);
        n++;
      }
    }
    return n;
  }

  @Override
  public synchronized int renew(UUID claimToken, Collection<Long> ids, Instant deadline) {
    int n = 0;
    for (Long id : ids) {
      Row r = claimed(claimToken, id);
      if (r != null) {
        r.availableAt = deadline;
        n++;
      }
    }
    return n;
  }

  @Override
  public synchronized int release(UUID claimToken, List<FailedEntry> failures) {
    int n = 0;
    for (FailedEntry f : failures) {
      Row r = claimed(claimToken, f.id());
      if (r != null) {
        r.attempts = f.attempts();
        r.lastError = f.error();
        r.claimToken = null;
        r.availableAt = f.retryAt();
        n++;
      }
    }
    return n;
  }

  @Override
  public synchronized int deadLetter(UUID claimToken, List<FailedEntry> failures, Instant now) {
    int n = 0;
    for (FailedEntry f : failures) {
      Row r = claimed(claimToken, f.id());
      if (r != null) {
        rows.remove(f.id());
        dead.put(
            r.id,
            DeadLetter.builder()
                .id(r.id)
                .messageId(r.messageId)
                .message(r.message)
                .createdAt(r.createdAt)
                .attempts(f.attempts())
                .lastError(f.error())
                .deadLetteredAt(now)
                .build());
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
        rows.put(id, new Row(id, d.messageId(), d.message(), d.createdAt()));
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
    for (Row r : rows.values()) {
      if (r.claimToken != null && r.availableAt.isAfter(now)) {
        claimed++;
      }
      if (r.attempts > 0) {
        failing++;
      }
    }
    // Rows are in id order and a requeued dead letter keeps its old id: the first row is the
    // oldest, as an index on the id finds it in a database.
    Duration age =
        rows.isEmpty()
            ? Duration.ZERO
            : Duration.between(rows.firstEntry().getValue().createdAt, now);
    return OutboxStats.builder()
        .pending(rows.size())
        .claimed(claimed)
        .failing(failing)
        .deadLetters(dead.size())
        .oldestPendingAge(age)
        .build();
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
