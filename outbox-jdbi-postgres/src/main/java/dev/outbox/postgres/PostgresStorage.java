package dev.outbox.postgres;

import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.FailedEntry;
import dev.outbox.Message;
import dev.outbox.OutboxException;
import dev.outbox.OutboxStats;
import dev.outbox.ProcessorStorage;
import dev.outbox.internal.HeadersJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ProcessorStorage} on PostgreSQL 12 or later, through Jdbi. Messages are written with the
 * caller's {@link Handle}, inside the caller's transaction; everything else runs on handles of the
 * {@link Jdbi} given to the builder, one statement (one round trip) per operation.
 *
 * <pre>{@code
 * PostgresStorage storage = PostgresStorage.builder(jdbi).tableName("outbox").build();
 * storage.createSchema(); // or run schema.sql from your migrations
 * Outbox<Handle> outbox = Outbox.builder(storage, publisher).build().start();
 * }</pre>
 *
 * <p>The tables are created by {@link #createSchema()} or by the script {@value #SCHEMA_RESOURCE}
 * on the class path ({@link #schemaSql()} gives it for the configured name). Leases compare the
 * instants the outbox's {@code Clock} passes in, never the database's {@code now()}.
 *
 * <p>Each {@link #publish} also runs {@code pg_notify(channel, '')} unless disabled with {@link
 * Builder#notifyOnPublish(boolean)}. PostgreSQL delivers it only when the transaction commits, to
 * every session that listens on the channel, such as a {@link PostgresWakeupListener}; without a
 * listener it costs next to nothing.
 *
 * <p>Thread-safe and immutable. Failures are thrown as {@link OutboxException} naming the operation
 * and the table; deadlocks and serialization failures of the storage's own statements are retried.
 */
public final class PostgresStorage implements ProcessorStorage<Handle> {

  /** The table name used when none is set. */
  public static final String DEFAULT_TABLE_NAME = "outbox";

  /** Where the schema script lives on the class path; it names the table {@code outbox}. */
  public static final String SCHEMA_RESOURCE = "dev/outbox/postgres/schema.sql";

  private static final Logger log = LoggerFactory.getLogger(PostgresStorage.class);

  /** How often a statement is tried when PostgreSQL reports a deadlock or serialization failure. */
  private static final int MAX_TRIES = 3;

  private static final Set<String> TRANSIENT_STATES = Set.of("40001", "40P01");

  private final Jdbi jdbi;
  private final TableName table;
  private final String channel; // null when publish does not notify
  private final Sql sql;

  private PostgresStorage(Builder b, TableName table) {
    this.jdbi = b.jdbi;
    this.table = table;
    this.channel =
        b.notifyOnPublish ? (b.notifyChannel == null ? table.name() : b.notifyChannel) : null;
    this.sql = new Sql(table, channel != null);
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

  /** The outbox table's name as configured, e.g. {@code outbox} or {@code app.outbox}. */
  public String tableName() {
    return table.name();
  }

  /** The dead-letter table's name: the outbox table's name followed by {@code _dead_letters}. */
  public String deadLetterTableName() {
    return table.deadLetterName();
  }

  /** The channel {@link #publish} notifies, or empty when it does not notify. */
  public Optional<String> notifyChannel() {
    return Optional.ofNullable(channel);
  }

  /**
   * The schema script ({@value #SCHEMA_RESOURCE}) for this storage's table name: two {@code CREATE
   * TABLE IF NOT EXISTS} statements, to run from a migration tool.
   */
  public String schemaSql() {
    return renderSchema(table);
  }

  /**
   * Creates the outbox and dead-letter tables unless they exist. Safe to run twice, and from
   * several processes at once (a transaction-scoped advisory lock serialises them). It does not
   * create the schema of a schema-qualified name, nor change tables that exist.
   *
   * @throws OutboxException when the statements fail
   */
  public void createSchema() {
    String script = schemaSql();
    try {
      jdbi.useTransaction(
          h -> {
            h.createQuery("SELECT 1 FROM pg_advisory_xact_lock(hashtext(:name))")
                .bind("name", "dev.outbox.postgres.createSchema:" + table.name())
                .mapTo(Integer.class)
                .one();
            h.createScript(script).execute();
          });
      log.info("outbox tables {} and {} are in place", table.name(), table.deadLetterName());
    } catch (JdbiException e) {
      throw failure("createSchema", e);
    }
  }

  /**
   * Writes the messages with one statement in the caller's transaction and, unless disabled,
   * notifies the channel once.
   *
   * @throws IllegalStateException when {@code txn} is not inside a transaction
   * @throws OutboxException when the statement fails; the caller's transaction is then aborted
   */
  @Override
  public void publish(Handle txn, Instant now, List<Message> messages) {
    Objects.requireNonNull(txn, "txn");
    if (!txn.isInTransaction()) {
      throw new IllegalStateException(
          "publish needs a handle inside a transaction (jdbi.useTransaction(h -> ...), or"
              + " handle.begin()): publishing outside a transaction defeats the outbox, since the"
              + " message would exist whether or not the business data commits");
    }
    int n = messages.size();
    String[] namespaces = new String[n];
    byte[][] keys = new byte[n][];
    byte[][] payloads = new byte[n][];
    String[] headers = new String[n];
    for (int i = 0; i < n; i++) {
      Message m = messages.get(i);
      namespaces[i] = m.namespace();
      keys[i] = m.key();
      payloads[i] = m.payload();
      headers[i] = HeadersJson.encode(m.headers());
    }
    try {
      var query =
          txn.createQuery(sql.publish)
              .bind("now", Args.timestamp(now))
              .bind("namespaces", Args.array("text", namespaces))
              .bind("keys", Args.array("bytea", keys))
              .bind("payloads", Args.array("bytea", payloads))
              .bind("headers", Args.array("text", headers));
      if (channel != null) {
        query.bind("channel", channel);
      }
      long written = query.mapTo(Long.class).one();
      if (written != n) {
        throw new OutboxException(
            "publish to " + table + " wrote " + written + " rows for " + n + " messages");
      }
    } catch (JdbiException e) {
      throw failure("publish of " + n + " messages", e);
    }
  }

  @Override
  public List<ClaimedEntry> claim(String processorId, Instant now, Instant deadline, int limit) {
    List<ClaimedEntry> claimed =
        run(
            "claim of up to " + limit + " entries for processor " + processorId,
            h ->
                h.createQuery(sql.claim)
                    .bind("now", Args.timestamp(now))
                    .bind("limit", limit)
                    .bind("processor", processorId)
                    .bind("deadline", Args.timestamp(deadline))
                    .map(Args.CLAIMED_ENTRY)
                    .list());
    List<ClaimedEntry> sorted = new ArrayList<>(claimed);
    sorted.sort(Comparator.comparingLong(ClaimedEntry::id));
    return sorted;
  }

  @Override
  public int delete(String processorId, Collection<Long> ids) {
    if (ids.isEmpty()) {
      return 0;
    }
    return run(
        "delete of " + ids.size() + " entries for processor " + processorId,
        h ->
            h.createUpdate(sql.delete)
                .bind("ids", Args.ids(ids))
                .bind("processor", processorId)
                .execute());
  }

  @Override
  public int renew(String processorId, Collection<Long> ids, Instant deadline) {
    if (ids.isEmpty()) {
      return 0;
    }
    return run(
        "renewal of " + ids.size() + " claims for processor " + processorId,
        h ->
            h.createUpdate(sql.renew)
                .bind("ids", Args.ids(ids))
                .bind("processor", processorId)
                .bind("deadline", Args.timestamp(deadline))
                .execute());
  }

  @Override
  public int fail(String processorId, List<FailedEntry> failures) {
    if (failures.isEmpty()) {
      return 0;
    }
    Failures f = new Failures(failures);
    String[] retryAts = new String[failures.size()];
    for (int i = 0; i < retryAts.length; i++) {
      retryAts[i] = failures.get(i).retryAt().toString(); // ISO-8601 in UTC, read as timestamptz
    }
    return run(
        "recording " + failures.size() + " failures for processor " + processorId,
        h ->
            h.createUpdate(sql.fail)
                .bind("ids", Args.array("int8", f.ids))
                .bind("attempts", Args.array("int4", f.attempts))
                .bind("retryAts", Args.array("text", retryAts))
                .bind("errors", Args.array("text", f.errors))
                .bind("processor", processorId)
                .execute());
  }

  /** Always {@code true}: dead letters live in the {@code <table>_dead_letters} table. */
  @Override
  public boolean supportsDeadLetters() {
    return true;
  }

  @Override
  public int deadLetter(String processorId, List<FailedEntry> failures, Instant now) {
    if (failures.isEmpty()) {
      return 0;
    }
    Failures f = new Failures(failures);
    return run(
        "dead-lettering of " + failures.size() + " entries for processor " + processorId,
        h ->
            h.createUpdate(sql.deadLetter)
                .bind("ids", Args.array("int8", f.ids))
                .bind("attempts", Args.array("int4", f.attempts))
                .bind("errors", Args.array("text", f.errors))
                .bind("processor", processorId)
                .bind("now", Args.timestamp(now))
                .execute());
  }

  @Override
  public List<DeadLetter> deadLetters(long afterId, int limit) {
    return run(
        "listing of up to " + limit + " dead letters after id " + afterId,
        h ->
            h.createQuery(sql.deadLetters)
                .bind("afterId", afterId)
                .bind("limit", limit)
                .map(Args.DEAD_LETTER)
                .list());
  }

  @Override
  public int requeueDeadLetters(Collection<Long> ids, Instant now) {
    if (ids.isEmpty()) {
      return 0;
    }
    return requeue("requeue of " + ids.size() + " dead letters", sql.requeue, ids, now);
  }

  @Override
  public int requeueAllDeadLetters(Instant now) {
    return requeue("requeue of all dead letters", sql.requeueAll, null, now);
  }

  private int requeue(String what, String statement, Collection<Long> ids, Instant now) {
    long n =
        run(
            what,
            h -> {
              var query = h.createQuery(statement).bind("now", Args.timestamp(now));
              if (ids != null) {
                query.bind("ids", Args.ids(ids));
              }
              if (channel != null) {
                query.bind("channel", channel);
              }
              return query.mapTo(Long.class).one();
            });
    return Math.toIntExact(n);
  }

  @Override
  public int purgeDeadLetters(Collection<Long> ids) {
    if (ids.isEmpty()) {
      return 0;
    }
    return run(
        "purge of " + ids.size() + " dead letters",
        h -> h.createUpdate(sql.purge).bind("ids", Args.ids(ids)).execute());
  }

  @Override
  public int purgeAllDeadLetters() {
    return run("purge of all dead letters", h -> h.createUpdate(sql.purgeAll).execute());
  }

  /** One round trip: a single pass over the outbox table plus a count of the dead letters. */
  @Override
  public OutboxStats stats(Instant now) {
    return run(
        "statistics",
        h ->
            h.createQuery(sql.stats)
                .bind("now", Args.timestamp(now))
                .map(
                    (rs, ctx) -> {
                      Instant oldest = Args.instant(rs, "oldest");
                      return new OutboxStats(
                          rs.getLong("pending"),
                          rs.getLong("claimed"),
                          rs.getLong("failing"),
                          rs.getLong("dead_letters"),
                          oldest == null ? Duration.ZERO : Duration.between(oldest, now));
                    })
                .one());
  }

  @Override
  public String toString() {
    return "PostgresStorage{table=" + table + ", notifyChannel=" + channel + "}";
  }

  // ---------------------------------------------------------------- plumbing

  /** Runs one operation on its own handle, retrying deadlocks and serialization failures. */
  private <R> R run(String what, HandleCallback<R, RuntimeException> work) {
    for (int attempt = 1; ; attempt++) {
      try {
        return jdbi.withHandle(h -> committed(h, work));
      } catch (JdbiException e) {
        String state = sqlState(e);
        if (attempt < MAX_TRIES && state != null && TRANSIENT_STATES.contains(state)) {
          log.debug("{} on {} hit a transient conflict ({}); trying again", what, table, state);
          continue;
        }
        throw failure(what, e);
      }
    }
  }

  /**
   * Runs one statement so that it is committed: auto-commit does it, but a pool may hand out
   * connections with auto-commit off, and then the storage commits (or rolls back) itself.
   */
  private static <R> R committed(Handle h, HandleCallback<R, RuntimeException> work) {
    if (!h.isInTransaction()) {
      return work.withHandle(h);
    }
    try {
      R result = work.withHandle(h);
      h.commit();
      return result;
    } catch (RuntimeException e) {
      try {
        h.rollback();
      } catch (RuntimeException rollbackFailure) {
        e.addSuppressed(rollbackFailure);
      }
      throw e;
    }
  }

  private OutboxException failure(String what, JdbiException e) {
    String state = sqlState(e);
    return new OutboxException(
        what
            + " on PostgreSQL table "
            + table
            + " failed"
            + (state == null ? "" : " (SQLState " + state + ")")
            + ": "
            + e.getMessage(),
        e);
  }

  private static String sqlState(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException s && s.getSQLState() != null) {
        return s.getSQLState();
      }
    }
    return null;
  }

  /** The columns of a list of failures, as arrays to bind. */
  private static final class Failures {
    final long[] ids;
    final int[] attempts;
    final String[] errors;

    Failures(List<FailedEntry> failures) {
      int n = failures.size();
      ids = new long[n];
      attempts = new int[n];
      errors = new String[n];
      for (int i = 0; i < n; i++) {
        FailedEntry f = failures.get(i);
        ids[i] = f.id();
        attempts[i] = f.attempts();
        errors[i] = f.error();
      }
    }
  }

  // ---------------------------------------------------------------- schema script

  /** A table reference in the script: {@code outbox} or {@code outbox_dead_letters}. */
  private static final Pattern SCRIPT_TABLE =
      Pattern.compile("(?<![\\w.\"])outbox(_dead_letters)?(?![\\w.\"])");

  static String renderSchema(TableName table) {
    String script;
    try (InputStream in =
        PostgresStorage.class.getClassLoader().getResourceAsStream(SCHEMA_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(SCHEMA_RESOURCE + " is missing from the class path");
      }
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + SCHEMA_RESOURCE, e);
    }
    // Table names are replaced in the SQL only, never in the "--" comments beside it.
    StringBuilder out = new StringBuilder(script.length() + 64);
    for (String line : script.split("\n", -1)) {
      int comment = line.indexOf("--");
      String code = comment < 0 ? line : line.substring(0, comment);
      Matcher m = SCRIPT_TABLE.matcher(code);
      while (m.find()) {
        String name = m.group(1) == null ? table.sql() : table.deadLetterSql();
        m.appendReplacement(out, Matcher.quoteReplacement(name));
      }
      m.appendTail(out);
      if (comment >= 0) {
        out.append(line, comment, line.length());
      }
      out.append('\n');
    }
    out.setLength(out.length() - 1);
    return out.toString();
  }

  // ---------------------------------------------------------------- builder

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
    private static final int MAX_CHANNEL_BYTES = 63;

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
      TableName table = null;
      try {
        table = TableName.parse(tableName);
      } catch (IllegalArgumentException e) {
        errors.add(e.getMessage());
      }
      if (notifyChannel != null) {
        String problem = channelProblem(notifyChannel);
        if (problem != null) {
          errors.add("notifyChannel \"" + notifyChannel + "\" " + problem);
        }
      }
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(
            "invalid PostgresStorage settings: " + String.join("; ", errors));
      }
      return new PostgresStorage(this, table);
    }

    /** Why a channel name is unusable, or null when it is fine. */
    static String channelProblem(String channel) {
      if (channel.isEmpty()) {
        return "is empty; it must have 1 to " + MAX_CHANNEL_BYTES + " bytes";
      }
      if (channel.indexOf('\0') >= 0) {
        return "contains a NUL character";
      }
      int bytes = channel.getBytes(StandardCharsets.UTF_8).length;
      if (bytes > MAX_CHANNEL_BYTES) {
        return "is " + bytes + " bytes of UTF-8; PostgreSQL allows at most " + MAX_CHANNEL_BYTES;
      }
      return null;
    }
  }
}
