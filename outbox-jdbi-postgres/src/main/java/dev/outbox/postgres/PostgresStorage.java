package dev.outbox.postgres;

import dev.outbox.NewEntry;
import dev.outbox.Ordering;
import dev.outbox.OutboxException;
import dev.outbox.ProcessorStorage;
import dev.outbox.jdbc.ConnectionStorage;
import dev.outbox.jdbc.JdbcDialect;
import dev.outbox.jdbc.JdbcStorage;
import dev.outbox.jdbc.LeasedDataSource;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * A {@link ProcessorStorage} on PostgreSQL 12 or later for Jdbi users: a thin binding of the {@link
 * JdbcStorage} engine (outbox-jdbc) to Jdbi {@link Handle}s. Messages are written with the caller's
 * handle, inside the caller's transaction; everything else runs on handles of the {@link Jdbi}
 * given to the builder, in the engine's own transactions, committed whatever the pool's auto-commit
 * default is.
 *
 * <pre>{@code
 * PostgresStorage storage = PostgresStorage.builder(jdbi).tableName("outbox").build();
 * storage.createSchema(); // or run schema.sql from your migrations
 * Outbox<Handle> outbox = Outbox.builder(storage, publisher).build().start();
 * }</pre>
 *
 * <p>The tables are created by {@link #createSchema()} or by the script {@value #SCHEMA_RESOURCE}
 * on the class path ({@link #schemaSql()} gives it for the configured name).
 *
 * <p>Publishing signals the channel so that a {@link PostgresWakeupListener} in any process wakes
 * its outboxes, in one of three ways ({@link Builder#notifyMode(NotifyMode)}):
 *
 * <ul>
 *   <li>{@link NotifyMode#COALESCED} (the default): the caller's transaction does not notify; a few
 *       milliseconds after a publish, one {@code NOTIFY} goes out on a connection of the storage's
 *       own, shared by every publish in between, and one more a little later for transactions that
 *       were still open. The application's commits stay as cheap as a plain INSERT's.
 *   <li>{@link NotifyMode#IN_TRANSACTION}: {@code pg_notify} in the caller's transaction, delivered
 *       exactly at its commit. PostgreSQL serializes the commits of notifying transactions on one
 *       cluster-wide lock, so with many concurrent writers this caps their commit rate.
 *   <li>{@link NotifyMode#NONE}: no signal; outboxes find entries at their {@code processInterval}.
 * </ul>
 *
 * <p>Thread-safe and immutable. Failures are thrown as {@link OutboxException} naming the operation
 * and the table; deadlocks and serialization failures of the storage's own work are retried.
 */
public final class PostgresStorage extends ConnectionStorage<Handle> {

  /** The table name used when none is set. */
  public static final String DEFAULT_TABLE_NAME = JdbcStorage.DEFAULT_TABLE_NAME;

  /** Where the schema script lives on the class path; it names the table {@code outbox}. */
  public static final String SCHEMA_RESOURCE = "dev/outbox/postgres/schema.sql";

  private static final Duration DEFAULT_NOTIFY_DELAY = Duration.ofMillis(5);
  private static final Duration MAX_NOTIFY_DELAY = Duration.ofSeconds(1);

  /** How publishing signals a {@link PostgresWakeupListener}. */
  public enum NotifyMode {
    /** No notification. */
    NONE,
    /**
     * Coalesced notifications on the storage's own connection shortly after publishing, outside the
     * caller's transaction (the default).
     */
    COALESCED,
    /** {@code pg_notify} inside the caller's transaction: serializes concurrent commits. */
    IN_TRANSACTION
  }

  private final String channel; // null when publish does not notify
  private final NotifyMode notifyMode;
  private final CoalescingNotifier notifier; // null unless COALESCED

  private PostgresStorage(
      JdbcStorage engine, String channel, NotifyMode notifyMode, CoalescingNotifier notifier) {
    super(engine);
    this.channel = channel;
    this.notifyMode = notifyMode;
    this.notifier = notifier;
  }

  /**
   * Writes with the handle's connection, and with {@link NotifyMode#COALESCED} schedules a
   * notification on the storage's own connection.
   */
  @Override
  public void publish(Handle txn, List<NewEntry> entries) {
    super.publish(txn, entries);
    if (notifier != null && !entries.isEmpty()) {
      notifier.published();
    }
  }

  @Override
  public int requeueDeadLetters(Collection<Long> ids, Instant now) {
    int n = super.requeueDeadLetters(ids, now);
    if (notifier != null && n > 0) {
      notifier.published();
    }
    return n;
  }

  @Override
  public int requeueAllDeadLetters(Instant now) {
    int n = super.requeueAllDeadLetters(now);
    if (notifier != null && n > 0) {
      notifier.published();
    }
    return n;
  }

  /** How publishing signals the channel. */
  public NotifyMode notifyMode() {
    return notifyMode;
  }

  /** Coalesced notifications sent so far (0 unless {@link NotifyMode#COALESCED}). */
  long coalescedNotificationsSent() {
    return notifier == null ? 0 : notifier.sent();
  }

  /**
   * Starts building a storage.
   *
   * @param jdbi the database the storage's own operations (claim, delete, ...) run on; usually the
   *     same one the application writes with
   */
  public static Builder builder(Jdbi jdbi) {
    return new Builder(jdbi);
  }

  /**
   * The channel publishing notifies, or empty when it does not notify ({@link NotifyMode#NONE}).
   */
  public Optional<String> notifyChannel() {
    return Optional.ofNullable(channel);
  }

  /**
   * The handle's connection.
   *
   * @throws IllegalStateException when the handle is not inside a transaction
   */
  @Override
  protected Connection connection(Handle txn) {
    if (!txn.isInTransaction()) {
      throw new IllegalStateException(
          "publish needs a handle inside a transaction (jdbi.useTransaction(h -> ...), or"
              + " handle.begin()): publishing outside a transaction defeats the outbox, since the"
              + " message would exist whether or not the business data commits");
    }
    return txn.getConnection();
  }

  @Override
  public String toString() {
    return "PostgresStorage{table="
        + tableName()
        + ", notifyChannel="
        + channel
        + ", notifyMode="
        + notifyMode
        + ", ordering="
        + ordering()
        + "}";
  }

  /**
   * Builds a {@link PostgresStorage}.
   *
   * <table>
   *   <caption>Settings</caption>
   *   <tr><th>setting</th><th>default</th><th>allowed</th></tr>
   *   <tr><td>tableName</td><td>{@code outbox}</td><td>{@code table} or {@code schema.table},
   *   lower-case identifiers; the table part at most 50 characters</td></tr>
   *   <tr><td>notifyMode</td><td>{@code COALESCED}</td><td>{@code NONE}, {@code COALESCED},
   *   {@code IN_TRANSACTION}</td></tr>
   *   <tr><td>notifyDelay</td><td>5 ms</td><td>0 to 1 s (COALESCED only)</td></tr>
   *   <tr><td>notifyChannel</td><td>the table name</td><td>1 to 63 bytes of UTF-8, no NUL</td></tr>
   *   <tr><td>ordering</td><td>{@link Ordering#NONE}</td><td>any {@link Ordering}</td></tr>
   * </table>
   */
  public static final class Builder {

    private final Jdbi jdbi;
    private String tableName = DEFAULT_TABLE_NAME;
    private NotifyMode notifyMode = NotifyMode.COALESCED;
    private Duration notifyDelay = DEFAULT_NOTIFY_DELAY;
    private String notifyChannel;
    private Ordering ordering = Ordering.NONE;

    private Builder(Jdbi jdbi) {
      this.jdbi = Objects.requireNonNull(jdbi, "jdbi must not be null");
    }

    /**
     * The outbox table: {@code table} or {@code schema.table}, each part a lower-case SQL
     * identifier ({@code [a-z_][a-z0-9_]*}). Default {@code outbox}. The dead-letter table is named
     * after it with {@code _dead_letters} appended.
     */
    public Builder tableName(String tableName) {
      this.tableName = tableName;
      return this;
    }

    /**
     * Whether publishing (and requeueing dead letters) notifies the channel so a {@link
     * PostgresWakeupListener} wakes the processors: {@code true} is {@link NotifyMode#COALESCED}
     * (the default), {@code false} is {@link NotifyMode#NONE}.
     */
    public Builder notifyOnPublish(boolean notifyOnPublish) {
      this.notifyMode = notifyOnPublish ? NotifyMode.COALESCED : NotifyMode.NONE;
      return this;
    }

    /** How publishing notifies the channel; default {@link NotifyMode#COALESCED}. */
    public Builder notifyMode(NotifyMode notifyMode) {
      this.notifyMode = notifyMode;
      return this;
    }

    /**
     * With {@link NotifyMode#COALESCED}: how long after a publish the notification goes out (a
     * second follows after ten times as long). Publishes in between share it. Default 5 ms.
     */
    public Builder notifyDelay(Duration notifyDelay) {
      this.notifyDelay = notifyDelay;
      return this;
    }

    /**
     * The channel to notify; default the table name (as configured, e.g. {@code app.outbox}). A
     * {@link PostgresWakeupListener} must listen on the same channel.
     */
    public Builder notifyChannel(String notifyChannel) {
      this.notifyChannel = notifyChannel;
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
     * Builds the storage. Nothing is read from or written to the database.
     *
     * @throws IllegalArgumentException naming every bad setting
     */
    public PostgresStorage build() {
      List<String> errors = new ArrayList<>();
      if (notifyMode == null) {
        errors.add("notifyMode must not be null (NONE, COALESCED or IN_TRANSACTION)");
      }
      if (notifyDelay == null
          || notifyDelay.isNegative()
          || notifyDelay.compareTo(MAX_NOTIFY_DELAY) > 0) {
        errors.add("notifyDelay must be between 0 and 1 s, was " + notifyDelay);
      }
      String channel =
          notifyMode == null || notifyMode == NotifyMode.NONE
              ? null
              : (notifyChannel == null ? tableName : notifyChannel);
      JdbcDialect dialect = JdbcDialect.postgres();
      if (channel != null) {
        try {
          JdbcDialect notifying = JdbcDialect.postgres(channel); // validates the channel
          if (notifyMode == NotifyMode.IN_TRANSACTION) {
            dialect = notifying;
          }
        } catch (IllegalArgumentException e) {
          errors.add(
              e.getMessage()
                  + (notifyChannel == null
                      ? " (the channel defaults to the table name: set notifyChannel, or"
                          + " notifyMode(NONE))"
                      : ""));
        }
      }
      JdbcStorage engine = null;
      try {
        engine =
            JdbcStorage.builder(
                    // Jdbi's connection management lends the engine its connections.
                    LeasedDataSource.of(jdbi::open, Handle::getConnection))
                .dialect(dialect)
                .tableName(tableName)
                .ordering(ordering)
                .build();
      } catch (IllegalArgumentException e) {
        errors.add(e.getMessage());
      }
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(
            "invalid PostgresStorage settings: " + String.join("; ", errors));
      }
      if (notifyMode == NotifyMode.COALESCED) {
        // The caller's transaction does not notify: the notifier does, on its own connection.
        return new PostgresStorage(
            engine, channel, notifyMode, new CoalescingNotifier(jdbi, channel, notifyDelay));
      }
      return new PostgresStorage(engine, channel, notifyMode, null);
    }

    /** Why a channel name is unusable, or null when it is fine. */
    static String channelProblem(String channel) {
      try {
        JdbcDialect.postgres(channel);
        return null;
      } catch (IllegalArgumentException e) {
        return e.getMessage().substring(("notifyChannel \"" + channel + "\" ").length());
      }
    }
  }
}
