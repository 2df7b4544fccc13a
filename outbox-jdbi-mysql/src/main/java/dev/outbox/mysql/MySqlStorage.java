package dev.outbox.mysql;

import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.FailedEntry;
import dev.outbox.Message;
import dev.outbox.OutboxException;
import dev.outbox.OutboxStats;
import dev.outbox.ProcessorStorage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.argument.Argument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ProcessorStorage} in a MySQL 8.0+ or MariaDB 10.6+ table (InnoDB), through Jdbi 3 and
 * MySQL Connector/J.
 *
 * <pre>{@code
 * Jdbi jdbi = Jdbi.create(dataSource); // URL with rewriteBatchedStatements=true
 * MySqlStorage storage = MySqlStorage.builder(jdbi).tableName("outbox").build();
 * storage.createSchema(); // or run schemaSql() / dev/outbox/mysql/schema.sql from your migrations
 * Outbox<Handle> outbox = Outbox.builder(storage, publisher).build().start();
 * }</pre>
 *
 * <p>{@link #publish} writes in the caller's transaction with one batched INSERT. Every other
 * method runs in the storage's own short READ COMMITTED transactions on connections from the {@link
 * Jdbi}; a claim selects the oldest available rows with {@code FOR UPDATE SKIP LOCKED} and marks
 * them by id, in one transaction. Transactions that InnoDB rolls back as deadlock victims (or whose
 * lock wait times out) are retried up to {@code maxDeadlockRetries} times; {@link
 * #deadlockRetries()} counts those retries. Other database failures are thrown as {@link
 * OutboxException}s naming the operation and the table.
 *
 * <p>Times are stored as UTC {@code DATETIME(6)} values, whatever the session's or the JVM's time
 * zone. Dead letters live in the table {@code <tableName>_dead_letters}. Thread-safe.
 */
public final class MySqlStorage implements ProcessorStorage<Handle> {

  private static final Logger log = LoggerFactory.getLogger(MySqlStorage.class);

  private final Jdbi jdbi;
  private final TableName table;
  private final int maxDeadlockRetries;
  private final Duration deadlockRetryBackoff;
  private final Sql sql;
  private final StorageTransactions tx;
  private final EntryStore entries;
  private final DeadLetterStore deadLetters;

  private MySqlStorage(Builder b, TableName table) {
    this.jdbi = b.jdbi;
    this.table = table;
    this.maxDeadlockRetries = b.maxDeadlockRetries;
    this.deadlockRetryBackoff = b.deadlockRetryBackoff;
    this.sql = new Sql(table);
    this.tx = new StorageTransactions(jdbi, table, maxDeadlockRetries, deadlockRetryBackoff);
    this.entries = new EntryStore(table, sql, tx);
    this.deadLetters = new DeadLetterStore(sql, tx);
  }

  /**
   * Starts building a storage that reaches the database through {@code jdbi}.
   *
   * @param jdbi connections to a MySQL 8.0+ or MariaDB 10.6+ database, preferably pooled and with
   *     {@code rewriteBatchedStatements=true} (see the README)
   */
  public static Builder builder(Jdbi jdbi) {
    return new Builder(Objects.requireNonNull(jdbi, "jdbi must not be null"));
  }

  // ---------------------------------------------------------------- schema

  /**
   * Creates the outbox and dead-letter tables unless they exist. Idempotent; safe to call at every
   * start. Existing tables are not altered.
   *
   * @throws OutboxException when the database refuses the DDL
   */
  public void createSchema() {
    List<String> statements = Sql.schemaStatements(table);
    tx.withHandle(
        "create the schema",
        h -> {
          statements.forEach(h::execute);
          return null;
        });
    log.info("outbox tables {} and {} are in place", table.outbox(), table.deadLetters());
  }

  /**
   * The DDL that {@link #createSchema()} runs, for this storage's table names: the resource {@code
   * dev/outbox/mysql/schema.sql} with the names replaced, for a migration tool.
   */
  public String schemaSql() {
    return Sql.schema(table);
  }

  /** The outbox table's name as configured, e.g. {@code outbox} or {@code shop.outbox}. */
  public String tableName() {
    return table.toString();
  }

  /**
   * How many storage transactions were retried because InnoDB rolled them back as deadlock victims
   * or their lock wait timed out, since this storage was built. For metrics and tests; a slowly
   * growing figure is normal under load, a fast-growing one is worth a look.
   */
  public long deadlockRetries() {
    return tx.retries();
  }

  // ---------------------------------------------------------------- the caller's transaction

  /**
   * Writes the messages with one batched INSERT in the caller's transaction. With Connector/J's
   * {@code rewriteBatchedStatements=true} the batch travels as multi-row INSERTs; ids increase in
   * list order either way.
   *
   * @throws IllegalStateException when {@code txn} is in auto-commit mode
   * @throws OutboxException when the insert fails; the caller's transaction should then be rolled
   *     back (after a deadlock, InnoDB has already rolled it back) and may be retried as a whole
   */
  @Override
  public void publish(Handle txn, Instant now, List<Message> messages) {
    Objects.requireNonNull(txn, "txn must not be null");
    if (!txn.isInTransaction()) {
      throw new IllegalStateException(
          "MySqlStorage.publish needs a Handle inside a transaction (jdbi.useTransaction(...) or"
              + " handle.begin()), but this one is in auto-commit mode: the outbox rows would"
              + " commit on their own and could be published for business data that is then"
              + " rolled back. Write your data and the messages in one transaction.");
    }
    if (messages.isEmpty()) {
      return;
    }
    entries.insert(txn, now, messages);
  }

  // ---------------------------------------------------------------- the processor's side

  /**
   * Claims in one READ COMMITTED transaction of two statements: {@code SELECT ... WHERE
   * available_at <= now ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED}, then an {@code UPDATE} of the
   * selected ids. Rows another claimer has locked are skipped, not waited for.
   */
  @Override
  public List<ClaimedEntry> claim(String processorId, Instant now, Instant deadline, int limit) {
    Objects.requireNonNull(processorId, "processorId");
    if (limit < 1) {
      throw new IllegalArgumentException("limit is " + limit + "; it must be 1 or more");
    }
    Objects.requireNonNull(deadline, "deadline");
    return entries.claim(processorId, now, deadline, limit);
  }

  /** Deletes with one statement, fenced by {@code processor_id}. */
  @Override
  public int delete(String processorId, Collection<Long> ids) {
    Objects.requireNonNull(processorId, "processorId");
    return entries.delete(processorId, ids);
  }

  /** Moves {@code available_at} to {@code deadline} with one statement, fenced. */
  @Override
  public int renew(String processorId, Collection<Long> ids, Instant deadline) {
    Objects.requireNonNull(processorId, "processorId");
    return entries.renew(processorId, ids, deadline);
  }

  /**
   * Updates each entry with one batched, fenced UPDATE in primary-key order, in one transaction.
   */
  @Override
  public int fail(String processorId, List<FailedEntry> failures) {
    Objects.requireNonNull(processorId, "processorId");
    return entries.fail(processorId, failures);
  }

  // ---------------------------------------------------------------- dead letters

  /** {@code true}: dead letters are kept in {@code <tableName>_dead_letters}. */
  @Override
  public boolean supportsDeadLetters() {
    return true;
  }

  /**
   * Locks the entries still claimed by the processor, copies them with {@code INSERT ... SELECT}
   * and deletes them, in one transaction (per 1,000 entries).
   */
  @Override
  public int deadLetter(String processorId, List<FailedEntry> failures, Instant now) {
    Objects.requireNonNull(processorId, "processorId");
    return deadLetters.deadLetter(processorId, failures, now);
  }

  @Override
  public List<DeadLetter> deadLetters(long afterId, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit is " + limit + "; it must be 1 or more");
    }
    return deadLetters.list(afterId, limit);
  }

  @Override
  public int requeueDeadLetters(Collection<Long> ids, Instant now) {
    return deadLetters.requeue(ids, now);
  }

  /** Requeues in transactions of 1,000 dead letters, smallest id first. */
  @Override
  public int requeueAllDeadLetters(Instant now) {
    return deadLetters.requeueAll(now);
  }

  @Override
  public int purgeDeadLetters(Collection<Long> ids) {
    return deadLetters.purge(ids);
  }

  /** Purges in transactions of 1,000 dead letters. */
  @Override
  public int purgeAllDeadLetters() {
    return deadLetters.purgeAll();
  }

  // ---------------------------------------------------------------- statistics

  /**
   * Counts in one round trip: one scan of the outbox table plus a count of the dead letters. Cheap
   * for the backlog an outbox normally holds; on millions of rows, call it less often.
   */
  @Override
  public OutboxStats stats(Instant now) {
    Argument nowArg = Rows.utc(now);
    return tx.withHandle(
        "count the backlog",
        h ->
            h.createQuery(sql.stats)
                .bind("now", nowArg)
                .map(
                    (rs, ctx) -> {
                      Instant oldest = Rows.instant(rs, "oldest");
                      return new OutboxStats(
                          rs.getLong("pending"),
                          rs.getLong("claimed"),
                          rs.getLong("failing"),
                          rs.getLong("dead_letters"),
                          oldest == null ? Duration.ZERO : Duration.between(oldest, now));
                    })
                .one());
  }

  /** Package-private for tests: runs work the way every storage transaction runs. */
  <R> R inTransaction(String operation, HandleCallback<R, RuntimeException> work) {
    return tx.inTransaction(operation, work);
  }

  @Override
  public String toString() {
    return "MySqlStorage{table="
        + table
        + ", maxDeadlockRetries="
        + maxDeadlockRetries
        + ", deadlockRetryBackoff="
        + deadlockRetryBackoff
        + "}";
  }

  /**
   * Builds a {@link MySqlStorage}. Every setting has a default; {@link #build()} checks them all at
   * once and names every bad value with what is allowed.
   *
   * <table>
   *   <caption>Settings</caption>
   *   <tr><th>setting</th><th>default</th><th>allowed</th></tr>
   *   <tr><td>tableName</td><td>{@code outbox}</td><td>letters, digits, underscores, 1 to 51
   *   characters, not starting with a digit; optionally {@code database.table}</td></tr>
   *   <tr><td>maxDeadlockRetries</td><td>5</td><td>0 to 100</td></tr>
   *   <tr><td>deadlockRetryBackoff</td><td>10 ms (doubling per retry, jittered, at most 1
   *   s)</td><td>0 to 10 s</td></tr>
   * </table>
   */
  public static final class Builder {

    static final int MAX_RETRIES = 100;
    static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

    private final Jdbi jdbi;
    private String tableName = "outbox";
    private int maxDeadlockRetries = 5;
    private Duration deadlockRetryBackoff = Duration.ofMillis(10);

    private Builder(Jdbi jdbi) {
      this.jdbi = jdbi;
    }

    /**
     * The outbox table; dead letters go to {@code <tableName>_dead_letters}. May be qualified by a
     * database: {@code shop.outbox}.
     */
    public Builder tableName(String tableName) {
      this.tableName = tableName;
      return this;
    }

    /**
     * How often a storage transaction that InnoDB rolled back as a deadlock victim (or whose lock
     * wait timed out) is retried before the failure is thrown as an {@link OutboxException}.
     */
    public Builder maxDeadlockRetries(int maxDeadlockRetries) {
      this.maxDeadlockRetries = maxDeadlockRetries;
      return this;
    }

    /**
     * The pause before the first deadlock retry; it doubles per further retry (at most 1 s) and is
     * randomly shortened by up to half. {@link Duration#ZERO} retries at once.
     */
    public Builder deadlockRetryBackoff(Duration deadlockRetryBackoff) {
      this.deadlockRetryBackoff = deadlockRetryBackoff;
      return this;
    }

    /**
     * Builds the storage. Does not touch the database.
     *
     * @throws IllegalArgumentException listing every invalid setting
     */
    public MySqlStorage build() {
      List<String> problems = new ArrayList<>();
      String tableProblem = TableName.problem(tableName);
      if (tableProblem != null) {
        problems.add(tableProblem);
      }
      if (maxDeadlockRetries < 0 || maxDeadlockRetries > MAX_RETRIES) {
        problems.add(
            "maxDeadlockRetries is " + maxDeadlockRetries + "; allowed are 0 to " + MAX_RETRIES);
      }
      if (deadlockRetryBackoff == null
          || deadlockRetryBackoff.isNegative()
          || deadlockRetryBackoff.compareTo(MAX_BACKOFF) > 0) {
        problems.add(
            "deadlockRetryBackoff is "
                + deadlockRetryBackoff
                + "; allowed are 0 to "
                + MAX_BACKOFF);
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException(
            "invalid MySqlStorage settings: " + String.join("; ", problems));
      }
      MySqlStorage storage = new MySqlStorage(this, TableName.of(tableName));
      log.debug("built {}", storage);
      return storage;
    }
  }
}
