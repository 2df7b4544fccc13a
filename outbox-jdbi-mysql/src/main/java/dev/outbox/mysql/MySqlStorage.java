package dev.outbox.mysql;

import dev.outbox.Ordering;
import dev.outbox.OutboxException;
import dev.outbox.ProcessorStorage;
import dev.outbox.jdbc.ConnectionStorage;
import dev.outbox.jdbc.JdbcDialect;
import dev.outbox.jdbc.JdbcStorage;
import dev.outbox.jdbc.LeasedDataSource;
import java.sql.Connection;
import java.time.Duration;
import java.util.Objects;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * A {@link ProcessorStorage} in a MySQL 8.0+ or MariaDB 10.6+ table (InnoDB) for Jdbi users: a thin
 * binding of the {@link JdbcStorage} engine (outbox-jdbc) with {@link JdbcDialect#mysql()} to Jdbi
 * {@link Handle}s.
 *
 * <pre>{@code
 * Jdbi jdbi = Jdbi.create(dataSource); // URL with rewriteBatchedStatements=true
 * MySqlStorage storage = MySqlStorage.builder(jdbi).tableName("outbox").build();
 * storage.createSchema(); // or run schemaSql() / dev/outbox/mysql/schema.sql from your migrations
 * Outbox<Handle> outbox = Outbox.builder(storage, publisher).build().start();
 * }</pre>
 *
 * <p>{@link #publish} writes in the caller's transaction with one batched INSERT. Every other
 * method runs in the engine's own short READ COMMITTED transactions on connections of the {@link
 * Jdbi}, committed whatever the pool's auto-commit default is. Work that InnoDB rolls back as a
 * deadlock victim (or whose lock wait times out) is retried up to {@code maxDeadlockRetries} times;
 * {@link #deadlockRetries()} counts those retries. Other database failures are thrown as {@link
 * OutboxException}s naming the operation and the table.
 *
 * <p>Times are stored as UTC {@code DATETIME(6)} values, whatever the session's or the JVM's time
 * zone. Dead letters live in the table {@code <tableName>_dead_letters}. Thread-safe.
 */
public final class MySqlStorage extends ConnectionStorage<Handle> {

  /** Where the schema script lives on the class path; it names the table {@code outbox}. */
  public static final String SCHEMA_RESOURCE = "dev/outbox/mysql/schema.sql";

  private final int maxDeadlockRetries;
  private final Duration deadlockRetryBackoff;

  private MySqlStorage(JdbcStorage engine, Builder b) {
    super(engine);
    this.maxDeadlockRetries = b.maxDeadlockRetries;
    this.deadlockRetryBackoff = b.deadlockRetryBackoff;
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

  /**
   * How many units of the storage's work were retried because InnoDB rolled them back as deadlock
   * victims or their lock wait timed out, since this storage was built. For metrics and tests.
   */
  public long deadlockRetries() {
    return jdbcStorage().retries();
  }

  /**
   * The handle's connection.
   *
   * @throws IllegalStateException when the handle is in auto-commit mode
   */
  @Override
  protected Connection connection(Handle txn) {
    if (!txn.isInTransaction()) {
      throw new IllegalStateException(
          "MySqlStorage.publish needs a Handle inside a transaction (jdbi.useTransaction(...) or"
              + " handle.begin()), but this one is in auto-commit mode: the outbox rows would"
              + " commit on their own and could be published for business data that is then"
              + " rolled back. Write your data and the messages in one transaction.");
    }
    return txn.getConnection();
  }

  @Override
  public String toString() {
    return "MySqlStorage{table="
        + tableName()
        + ", maxDeadlockRetries="
        + maxDeadlockRetries
        + ", deadlockRetryBackoff="
        + deadlockRetryBackoff
        + ", ordering="
        + ordering()
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
   *   <tr><td>ordering</td><td>{@link Ordering#NONE}</td><td>any {@link Ordering}</td></tr>
   * </table>
   */
  public static final class Builder {

    private final Jdbi jdbi;
    private String tableName = JdbcStorage.DEFAULT_TABLE_NAME;
    private int maxDeadlockRetries = 5;
    private Duration deadlockRetryBackoff = Duration.ofMillis(10);
    private Ordering ordering = Ordering.NONE;

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
     * How often a unit of the storage's work that InnoDB rolled back as a deadlock victim (or whose
     * lock wait timed out) is retried before the failure is thrown as an {@link OutboxException}.
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
     * Whether, and how, the storage keeps each key's messages in order; default {@link
     * Ordering#NONE}. Ordered modes lock each key in {@code publish} (writers of one key are
     * serialized from publish to commit) and claim a key's messages one run at a time; see {@link
     * JdbcStorage} and {@link Ordering}. Tables created before this option need {@code
     * upgrade-order-key.sql}.
     */
    public Builder ordering(Ordering ordering) {
      this.ordering = ordering;
      return this;
    }

    /**
     * Builds the storage. Does not touch the database.
     *
     * @throws IllegalArgumentException listing every invalid setting
     */
    public MySqlStorage build() {
      JdbcStorage engine;
      try {
        engine =
            JdbcStorage.builder(
                    // Jdbi's connection management lends the engine its connections.
                    LeasedDataSource.of(jdbi::open, Handle::getConnection))
                .dialect(JdbcDialect.mysql())
                .tableName(tableName)
                .maxRetries(maxDeadlockRetries)
                .retryBackoff(deadlockRetryBackoff)
                .ordering(ordering)
                .build();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "invalid MySqlStorage settings: "
                + e.getMessage()
                    .substring(e.getMessage().indexOf(": ") + 2)
                    .replace("maxRetries", "maxDeadlockRetries")
                    .replace("retryBackoff", "deadlockRetryBackoff"),
            e);
      }
      return new MySqlStorage(engine, this);
    }
  }
}
