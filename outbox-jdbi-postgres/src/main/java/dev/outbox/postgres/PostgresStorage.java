package dev.outbox.postgres;

import dev.outbox.OutboxException;
import dev.outbox.ProcessorStorage;
import dev.outbox.jdbc.ConnectionStorage;
import dev.outbox.jdbc.JdbcDialect;
import dev.outbox.jdbc.JdbcStorage;
import dev.outbox.jdbc.LeasedDataSource;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Handles;
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
 * <p>Each {@link #publish} also runs {@code pg_notify(channel, '')} unless disabled with {@link
 * Builder#notifyOnPublish(boolean)}. PostgreSQL delivers it only when the transaction commits, to
 * every session that listens on the channel, such as a {@link PostgresWakeupListener}; without a
 * listener it costs next to nothing.
 *
 * <p>Thread-safe and immutable. Failures are thrown as {@link OutboxException} naming the operation
 * and the table; deadlocks and serialization failures of the storage's own work are retried.
 */
public final class PostgresStorage extends ConnectionStorage<Handle> {

  /** The table name used when none is set. */
  public static final String DEFAULT_TABLE_NAME = JdbcStorage.DEFAULT_TABLE_NAME;

  /** Where the schema script lives on the class path; it names the table {@code outbox}. */
  public static final String SCHEMA_RESOURCE = "dev/outbox/postgres/schema.sql";

  private final String channel; // null when publish does not notify

  private PostgresStorage(JdbcStorage engine, String channel) {
    super(engine);
    this.channel = channel;
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

  /** The channel {@link #publish} notifies, or empty when it does not notify. */
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
    return "PostgresStorage{table=" + tableName() + ", notifyChannel=" + channel + "}";
  }

  /**
   * A data source whose connections are those of {@code jdbi}'s handles, so the engine uses the
   * Jdbi's connection management. The engine commits its own work and restores auto-commit, so a
   * handle is never closed inside a transaction of its own making.
   */
  static DataSource connections(Jdbi jdbi) {
    return LeasedDataSource.of(
        () -> {
          Handle h = jdbi.open();
          h.getConfig(Handles.class).setForceEndTransactions(false); // the engine commits
          return LeasedDataSource.Lease.of(h.getConnection(), h);
        });
  }

  /**
   * Builds a {@link PostgresStorage}.
   *
   * <table>
   *   <caption>Settings</caption>
   *   <tr><th>setting</th><th>default</th><th>allowed</th></tr>
   *   <tr><td>tableName</td><td>{@code outbox}</td><td>{@code table} or {@code schema.table},
   *   lower-case identifiers; the table part at most 50 characters</td></tr>
   *   <tr><td>notifyOnPublish</td><td>true</td><td></td></tr>
   *   <tr><td>notifyChannel</td><td>the table name</td><td>1 to 63 bytes of UTF-8, no NUL</td></tr>
   * </table>
   */
  public static final class Builder {

    private final Jdbi jdbi;
    private String tableName = DEFAULT_TABLE_NAME;
    private boolean notifyOnPublish = true;
    private String notifyChannel;

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
     * Whether {@link PostgresStorage#publish} (and requeueing dead letters) notifies the channel so
     * a {@link PostgresWakeupListener} wakes the processors at once. Default {@code true}.
     */
    public Builder notifyOnPublish(boolean notifyOnPublish) {
      this.notifyOnPublish = notifyOnPublish;
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
     * Builds the storage. Nothing is read from or written to the database.
     *
     * @throws IllegalArgumentException naming every bad setting
     */
    public PostgresStorage build() {
      List<String> errors = new ArrayList<>();
      String channel = notifyOnPublish ? (notifyChannel == null ? tableName : notifyChannel) : null;
      JdbcDialect dialect = JdbcDialect.postgres();
      if (channel != null) {
        try {
          dialect = JdbcDialect.postgres(channel);
        } catch (IllegalArgumentException e) {
          errors.add(
              e.getMessage()
                  + (notifyChannel == null
                      ? " (the channel defaults to the table name: set notifyChannel, or"
                          + " notifyOnPublish(false))"
                      : ""));
        }
      }
      JdbcStorage engine = null;
      try {
        engine =
            JdbcStorage.builder(connections(jdbi)).dialect(dialect).tableName(tableName).build();
      } catch (IllegalArgumentException e) {
        errors.add(e.getMessage());
      }
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(
            "invalid PostgresStorage settings: " + String.join("; ", errors));
      }
      return new PostgresStorage(engine, channel);
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
