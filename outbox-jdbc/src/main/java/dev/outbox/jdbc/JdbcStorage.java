package dev.outbox.jdbc;

import dev.outbox.BlockedKey;
import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.DeadLetterStorage;
import dev.outbox.FailedEntry;
import dev.outbox.NewEntry;
import dev.outbox.Ordering;
import dev.outbox.OutboxException;
import dev.outbox.OutboxStats;
import dev.outbox.ProcessorStorage;
import dev.outbox.StatisticsStorage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbox's storage on plain JDBC, for PostgreSQL, MySQL and MariaDB: the caller's transaction
 * is a {@link Connection}, so plain JDBC, jOOQ, JPA and Spring-managed transactions can all
 * publish.
 *
 * <pre>{@code
 * JdbcStorage storage = JdbcStorage.builder(dataSource)
 *     .dialect(JdbcDialect.postgres()) // or mysql(), or leave it out to detect it
 *     .tableName("outbox")
 *     .build();
 * storage.createSchema(); // or run schemaSql() from your migrations
 * Outbox<Connection> outbox = Outbox.builder(storage, publisher).build().start();
 *
 * try (Connection c = dataSource.getConnection()) {   // plain JDBC
 *   c.setAutoCommit(false);
 *   orders.insert(c, order);
 *   outbox.publish(c, message);
 *   c.commit();
 * }
 * // Spring: inside @Transactional or a TransactionTemplate, the connection bound to the
 * // transaction is DataSourceUtils.getConnection(dataSource).
 * }</pre>
 *
 * <p>{@link #publish} writes with the caller's connection, which must be inside a transaction
 * (auto-commit off); it never commits, rolls back or closes it. Everything else runs on connections
 * of the {@link DataSource} given to the builder, in the storage's own short transactions, which it
 * commits itself whatever the pool's auto-commit default is, and retries when the database reports
 * a deadlock, a serialization failure or a lock wait timeout.
 *
 * <p>Fresh and requeued entries are written available at the epoch, so they are claimable at once
 * whatever any clock says. Every change after a claim is fenced by the claim's token.
 *
 * <h2>Ordering</h2>
 *
 * {@code builder(dataSource).ordering(Ordering.BY_KEY)} (or {@link Ordering#BY_KEY_BLOCKING}) keeps
 * each key's messages in order, as {@link Ordering} specifies:
 *
 * <ul>
 *   <li>every entry with a key is written with its {@code order_key}, a 64-bit hash of namespace
 *       and key (two keys that share one are ordered together, never out of order);
 *   <li>{@link #publish} first takes a lock per order key inside the caller's transaction, in
 *       ascending order (so that two writers never deadlock on each other's keys), and holds it
 *       until that transaction ends: writers of one key are serialized from publish to commit, so a
 *       key's id order is its commit order. PostgreSQL: {@code pg_advisory_xact_lock(int, int)}, no
 *       table write; MySQL/MariaDB: an upsert of the key's row in {@code <table>_key_locks}. One
 *       extra statement per publish;
 *   <li>{@link #claim} hands out an entry of a key only when no older entry of the key is left in
 *       the outbox (blocking mode: nor among the dead letters), with at most {@link
 *       ClaimRequest#maxPerKey()} consecutive available entries of that key. See the dialects for
 *       how this stays correct against concurrent claimers.
 * </ul>
 *
 * Every writer of an outbox table must use the same ordering and table name: an unordered writer
 * takes no lock and writes no order key. Entries written before the switch to an ordered mode have
 * no order key and are delivered unordered.
 *
 * <p>Thread-safe and immutable. Failures are thrown as {@link OutboxException}s that name the
 * operation, the database, the table and the SQLState.
 */
public final class JdbcStorage
    implements ProcessorStorage<Connection>, DeadLetterStorage, StatisticsStorage {

  /** The table name used when none is set. */
  public static final String DEFAULT_TABLE_NAME = "outbox";

  /** Rows per transaction when moving or purging many dead letters, and ids per statement. */
  static final int CHUNK = 1000;

  private static final Logger log = LoggerFactory.getLogger(JdbcStorage.class);

  private final JdbcDialect dialect;
  private final TableName table;
  private final Sql sql;
  private final Transactions tx;
  private final int maxRetries;
  private final Duration retryBackoff;
  private final Ordering ordering;
  private final LeaseMode leaseMode;
  private final LockedClaims locked; // null in LeaseMode.ROW

  private JdbcStorage(Builder b, JdbcDialect dialect, TableName table) {
    this.dialect = dialect;
    this.table = table;
    this.ordering = b.ordering;
    this.sql = new Sql(table, dialect, b.ordering.byKey());
    this.maxRetries = b.maxRetries;
    this.retryBackoff = b.retryBackoff;
    this.tx = new Transactions(b.dataSource, dialect, table, b.maxRetries, b.retryBackoff);
    this.leaseMode = b.leaseMode;
    this.locked =
        b.leaseMode == LeaseMode.LOCK
            ? new LockedClaims(b.dataSource, dialect, sql, tx, b.lockHoldLimit, b.maxLockedClaims)
            : null;
  }

  /**
   * Starts building a storage.
   *
   * @param dataSource where the storage's own work (claim, delete, ...) gets its connections;
   *     usually the application's pool. Any auto-commit default works.
   */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /** Whether, and how, this storage keeps each key's messages in order; see the class comment. */
  @Override
  public Ordering ordering() {
    return ordering;
  }

  /** The dialect. */
  public JdbcDialect dialect() {
    return dialect;
  }

  /** The outbox table's name as configured, e.g. {@code outbox} or {@code app.outbox}. */
  public String tableName() {
    return table.name();
  }

  /** The dead-letter table's name: the outbox table's name followed by {@code _dead_letters}. */
  public String deadLetterTableName() {
    return table.deadLetterName();
  }

  /**
   * How claims hold their entries: {@link LeaseMode#ROW} (the default) or {@link LeaseMode#LOCK}.
   */
  public LeaseMode leaseMode() {
    return leaseMode;
  }

  /**
   * How many claims hold a transaction open right now ({@link LeaseMode#LOCK}; always 0 in {@link
   * LeaseMode#ROW}). Each holds one connection of the data source.
   */
  public int openLockedClaims() {
    return locked == null ? 0 : locked.open();
  }

  /**
   * How many lock-held claims were converted into row leases since this storage was built: by a
   * lease renewal or by the {@link Builder#lockHoldLimit hold limit}. A high count next to the
   * number of batches means publishing often takes longer than the hold limit.
   */
  public long lockedClaimConversions() {
    return locked == null ? 0 : locked.conversions();
  }

  /**
   * How many lock-held claims the database ended as deadlock victims before their delete (their
   * published entries were then deleted unless another claim had taken them).
   */
  public long lockedClaimDeadlocks() {
    return locked == null ? 0 : locked.deadlocks();
  }

  /**
   * How many claims took a row lease because {@link Builder#maxLockedClaims} claims held
   * connections already.
   */
  public long lockedClaimFallbacks() {
    return locked == null ? 0 : locked.rowLeaseFallbacks();
  }

  /**
   * How many units of the storage's work were retried after a deadlock, serialization failure or
   * lock wait timeout since this storage was built. For metrics.
   */
  public long retries() {
    return tx.retries();
  }

  // ---------------------------------------------------------------- schema

  /**
   * The schema script for this storage's table name: the dialect's file ({@code
   * dev/outbox/postgres/schema.sql} or {@code dev/outbox/mysql/schema.sql} on the class path) with
   * the names replaced, for a migration tool.
   */
  public String schemaSql() {
    return SchemaScript.render(dialect.schemaResource(), table);
  }

  /**
   * Creates the outbox and dead-letter tables (and their indexes, and MySQL's key-lock table)
   * unless they exist, and commits. Idempotent; safe to run at every start and from several
   * processes at once. It does not create a schema or database named in a qualified table name, nor
   * change tables that exist: tables created before per-key ordering keep working unordered, and an
   * ordered storage's {@code createSchema} fails on them naming {@code upgrade-order-key.sql}.
   *
   * @throws OutboxException when the database refuses the DDL
   */
  public void createSchema() {
    List<String> statements = SchemaScript.statements(schemaSql());
    tx.transaction(
        "createSchema",
        c -> {
          dialect.lockSchema(c, table);
          try (Statement st = c.createStatement()) {
            for (String s : statements) {
              if (!dialect.schemaStatementNeeded(c, s)) {
                continue;
              }
              try {
                st.execute(s);
              } catch (SQLException e) {
                throw SchemaScript.explain(e, s);
              }
            }
          }
          if (ordering.byKey()) {
            requireOrderKey(c);
          }
          return null;
        });
    log.info("outbox tables {} and {} are in place", table.name(), table.deadLetterName());
  }

  /** An ordered storage needs order_key, which tables of an older schema lack. */
  private void requireOrderKey(Connection c) throws SQLException {
    String check = "SELECT order_key FROM " + sql.t + " WHERE 1 = 0";
    try (Statement st = c.createStatement()) {
      st.executeQuery(check).close();
    } catch (SQLException e) {
      throw new SQLException(
          "an ordered storage needs the order_key column, which table "
              + table
              + " lacks (created before per-key ordering): run "
              + dialect.schemaResource().replace("schema.sql", "upgrade-order-key.sql")
              + " for it first ("
              + e.getMessage()
              + ")",
          e.getSQLState(),
          e.getErrorCode(),
          e);
    }
  }

  // ---------------------------------------------------------------- the caller's transaction

  /**
   * Writes the entries with the caller's connection, in its transaction: one statement on
   * PostgreSQL, one batch on MySQL/MariaDB. The connection is not committed, rolled back or closed.
   *
   * @throws IllegalStateException when the connection is in auto-commit mode: the entries would
   *     commit on their own, whether or not the business data does
   * @throws OutboxException when the database refuses the write; roll back the caller's transaction
   *     (after a deadlock the database has already) and retry it as a whole if you like
   */
  @Override
  public void publish(Connection txn, List<NewEntry> entries) {
    Objects.requireNonNull(txn, "txn must not be null: publish with your transaction's connection");
    Objects.requireNonNull(entries, "entries");
    if (entries.isEmpty()) {
      return;
    }
    try {
      if (txn.getAutoCommit()) {
        throw new IllegalStateException(
            "publish needs a connection inside a transaction, but this one is in auto-commit mode:"
                + " the outbox entries would commit on their own and could be published for business"
                + " data that is then rolled back. Call setAutoCommit(false) (or publish inside your"
                + " framework's transaction) and commit your data and the messages together.");
      }
      if (ordering.byKey()) {
        publishOrdered(txn, entries);
      } else {
        dialect.insert(txn, sql, entries, null);
      }
    } catch (SQLException e) {
      String conflict = SqlErrors.transientConflict(e);
      throw new OutboxException(
          "publish of "
              + entries.size()
              + " entries on "
              + dialect.name()
              + " table "
              + table
              + " failed: "
              + SqlErrors.describe(e)
              + (conflict == null
                  ? ""
                  : " (a "
                      + conflict
                      + ": roll back and retry your whole transaction; the database may have"
                      + " rolled it back already)"),
          e);
    }
  }

  /**
   * Ordered: locks the entries' order keys (ascending, in the caller's transaction), then writes
   * them with their order keys. The lock comes first, so the ids are drawn while it is held.
   */
  private void publishOrdered(Connection txn, List<NewEntry> entries) throws SQLException {
    Long[] keys = OrderKeys.of(entries);
    long[] present = Arrays.stream(keys).filter(Objects::nonNull).mapToLong(k -> k).toArray();
    if (present.length > 0) {
      dialect.lockKeys(txn, sql, OrderKeys.distinctSorted(present));
    }
    dialect.insert(txn, sql, entries, keys);
  }

  // ---------------------------------------------------------------- the processor's side

  @Override
  public List<ClaimedEntry> claim(ClaimRequest request) {
    Objects.requireNonNull(request, "request");
    if (locked != null) {
      return locked.claim(request); // oldest first: the claim reads in id order
    }
    String what =
        "claim of up to " + request.limit() + " entries for processor " + request.processorId();
    List<ClaimedEntry> claimed;
    if (ordering.byKey()) {
      boolean blocking = ordering == Ordering.BY_KEY_BLOCKING;
      Transactions.Work<List<ClaimedEntry>> work =
          c -> dialect.claimOrdered(c, sql, request, blocking);
      claimed =
          dialect.orderedClaimNeedsTransaction()
              ? tx.transaction(what, work)
              : tx.statement(what, work);
    } else {
      Transactions.Work<List<ClaimedEntry>> work = c -> dialect.claim(c, sql, request);
      claimed =
          dialect.claimNeedsTransaction() ? tx.transaction(what, work) : tx.statement(what, work);
    }
    List<ClaimedEntry> sorted = new ArrayList<>(claimed);
    sorted.sort(Comparator.comparingLong(ClaimedEntry::id));
    return sorted;
  }

  @Override
  public int delete(UUID claimToken, Collection<Long> ids) {
    Objects.requireNonNull(claimToken, "claimToken");
    List<Long> sorted = sorted(ids);
    if (sorted.isEmpty()) {
      return 0;
    }
    if (locked != null) {
      return locked.delete(claimToken, sorted);
    }
    return tx.statement(
        "delete of " + sorted.size() + " entries",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql.delete(sorted.size()))) {
            int next = dialect.bindIds(ps, 1, sorted);
            dialect.setUuid(ps, next, claimToken);
            return ps.executeUpdate();
          }
        });
  }

  @Override
  public int renew(UUID claimToken, Collection<Long> ids, Instant deadline) {
    Objects.requireNonNull(claimToken, "claimToken");
    Objects.requireNonNull(deadline, "deadline");
    List<Long> sorted = sorted(ids);
    if (sorted.isEmpty()) {
      return 0;
    }
    if (locked != null) {
      return locked.renew(claimToken, sorted, deadline);
    }
    return tx.statement(
        "renewal of " + sorted.size() + " claims",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql.renew(sorted.size()))) {
            dialect.setInstant(ps, 1, deadline);
            int next = dialect.bindIds(ps, 2, sorted);
            dialect.setUuid(ps, next, claimToken);
            return ps.executeUpdate();
          }
        });
  }

  @Override
  public int release(UUID claimToken, List<FailedEntry> failures) {
    Objects.requireNonNull(claimToken, "claimToken");
    if (failures.isEmpty()) {
      return 0;
    }
    List<FailedEntry> sorted =
        failures.stream().sorted(Comparator.comparingLong(FailedEntry::id)).toList();
    if (locked != null) {
      return locked.release(claimToken, sorted);
    }
    String what = "release of " + failures.size() + " entries";
    Transactions.Work<Integer> work = c -> dialect.release(c, sql, claimToken, sorted);
    return dialect.releaseNeedsTransaction()
        ? tx.transaction(what, work)
        : tx.statement(what, work);
  }

  /**
   * In {@link LeaseMode#LOCK}, commits the claim's transaction if it is still open (what was
   * deleted, released or dead-lettered stays so; entries of the claim not dealt with are claimable
   * at once) and gives its connection back. Nothing in {@link LeaseMode#ROW} or for a token that
   * holds no transaction.
   */
  @Override
  public void finish(UUID claimToken) {
    if (locked != null && claimToken != null) {
      locked.finish(claimToken);
    }
  }

  /** Commits every lock-held claim; for tests. */
  void finishLockedClaims() {
    if (locked != null) {
      locked.finishAll();
    }
  }

  // ---------------------------------------------------------------- dead letters

  /**
   * Locks the entries that still carry the token, copies them to the dead letters and deletes them,
   * in one transaction per 1,000 entries.
   */
  @Override
  public int deadLetter(UUID claimToken, List<FailedEntry> failures, Instant now) {
    Objects.requireNonNull(claimToken, "claimToken");
    Objects.requireNonNull(now, "now");
    List<FailedEntry> sorted =
        failures.stream().sorted(Comparator.comparingLong(FailedEntry::id)).toList();
    Integer held = locked == null ? null : locked.deadLetter(claimToken, sorted, now);
    if (held != null) {
      return held;
    }
    if (locked != null) {
      synchronized (locked.stripe(claimToken)) { // not concurrently with its own renewal
        return moveToDeadLetters(claimToken, sorted, now);
      }
    }
    return moveToDeadLetters(claimToken, sorted, now);
  }

  private int moveToDeadLetters(UUID claimToken, List<FailedEntry> sorted, Instant now) {
    int moved = 0;
    for (List<FailedEntry> chunk : chunks(sorted)) {
      moved +=
          tx.transaction(
              "dead-lettering of " + chunk.size() + " entries",
              c -> moveToDeadLetters(c, claimToken, chunk, now));
    }
    return moved;
  }

  private int moveToDeadLetters(
      Connection c, UUID claimToken, List<FailedEntry> failures, Instant now) throws SQLException {
    List<Long> ids = failures.stream().map(FailedEntry::id).distinct().toList();
    List<Long> owned = new ArrayList<>();
    // LOCK: rows a lock-held claim holds are not this token's any more; skip them, never wait.
    String lock = sql.lockClaimed(ids.size()) + (locked == null ? "" : " SKIP LOCKED");
    try (PreparedStatement ps = c.prepareStatement(lock)) {
      int next = dialect.bindIds(ps, 1, ids);
      dialect.setUuid(ps, next, claimToken);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          owned.add(rs.getLong(1));
        }
      }
    }
    if (owned.isEmpty()) {
      return 0;
    }
    Set<Long> copied = new HashSet<>();
    try (PreparedStatement ps = c.prepareStatement(sql.copyToDeadLetters)) {
      for (FailedEntry f : failures) {
        if (owned.contains(f.id()) && copied.add(f.id())) { // a repeated id is moved once
          ps.setInt(1, f.attempts());
          ps.setString(2, Sql.description(f.error()));
          dialect.setInstant(ps, 3, now);
          ps.setLong(4, f.id());
          ps.addBatch();
        }
      }
      ps.executeBatch();
    }
    try (PreparedStatement ps = c.prepareStatement(sql.deleteEntries(owned.size()))) {
      dialect.bindIds(ps, 1, owned);
      return ps.executeUpdate();
    }
  }

  @Override
  public List<DeadLetter> deadLetters(long afterId, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit is " + limit + "; it must be 1 or more");
    }
    return tx.statement(
        "listing of up to " + limit + " dead letters after id " + afterId,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql.deadLetters)) {
            ps.setLong(1, afterId);
            ps.setInt(2, limit);
            List<DeadLetter> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(Rows.deadLetter(rs, dialect));
              }
            }
            return out;
          }
        });
  }

  @Override
  public int requeueDeadLetters(Collection<Long> ids, Instant now) {
    int moved = 0;
    for (List<Long> chunk : chunks(sorted(ids))) {
      moved +=
          tx.transaction(
              "requeue of " + chunk.size() + " dead letters",
              c -> copyBack(c, lockedDeadLetters(c, chunk)));
    }
    return moved;
  }

  /** Requeues in transactions of 1,000 dead letters, smallest id first. */
  @Override
  public int requeueAllDeadLetters(Instant now) {
    int moved = 0;
    long afterId = 0;
    while (true) {
      long after = afterId;
      List<Long> chunk =
          tx.transaction(
              "requeue of all dead letters",
              c -> {
                List<Long> locked = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement(sql.lockDeadLettersPage)) {
                  ps.setLong(1, after);
                  ps.setInt(2, CHUNK);
                  try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                      locked.add(rs.getLong(1));
                    }
                  }
                }
                copyBack(c, locked);
                return locked;
              });
      moved += chunk.size();
      if (chunk.size() < CHUNK) {
        return moved;
      }
      afterId = chunk.get(chunk.size() - 1);
    }
  }

  private List<Long> lockedDeadLetters(Connection c, List<Long> ids) throws SQLException {
    List<Long> locked = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql.lockDeadLetters(ids.size()))) {
      dialect.bindIds(ps, 1, ids);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          locked.add(rs.getLong(1));
        }
      }
    }
    return locked;
  }

  /** Copies locked dead letters back, available at once with attempts 0, and deletes them. */
  private int copyBack(Connection c, List<Long> locked) throws SQLException {
    if (locked.isEmpty()) {
      return 0;
    }
    try (PreparedStatement ps = c.prepareStatement(sql.copyBack(locked.size()))) {
      dialect.setInstant(ps, 1, Sql.AVAILABLE_AT_ONCE);
      dialect.bindIds(ps, 2, locked);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement(sql.deleteDeadLetters(locked.size()))) {
      dialect.bindIds(ps, 1, locked);
      ps.executeUpdate();
    }
    dialect.afterRequeue(c);
    return locked.size();
  }

  /**
   * For {@link Ordering#BY_KEY_BLOCKING}: the order keys among the dead letters, by their smallest
   * dead letter's id, with their dead letters and how many outbox entries wait behind them; an
   * empty list in other modes. The namespace and key are those of the key's smallest dead letter
   * (should two keys share an order key, they are blocked, and listed, as one). Three statements in
   * one transaction; dead letters are few, so reading them all is cheap.
   */
  @Override
  public List<BlockedKey> blockedKeys(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit is " + limit + "; it must be 1 or more");
    }
    if (ordering != Ordering.BY_KEY_BLOCKING) {
      return List.of();
    }
    return tx.transaction(
        "listing of up to " + limit + " blocked keys", c -> blockedKeys(c, limit));
  }

  private List<BlockedKey> blockedKeys(Connection c, int limit) throws SQLException {
    List<Long> keys = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql.blockedKeys())) {
      ps.setInt(1, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          keys.add(rs.getLong("order_key"));
        }
      }
    }
    if (keys.isEmpty()) {
      return List.of();
    }
    record Dead(String namespace, byte[] key, List<Long> ids) {}
    Map<Long, Dead> dead = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql.deadLettersOfKeys(keys.size()))) {
      dialect.bindIds(ps, 1, keys);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long id = rs.getLong("id");
          String namespace = rs.getString("namespace");
          byte[] key = rs.getBytes("msg_key");
          dead.computeIfAbsent(
                  rs.getLong("order_key"), k -> new Dead(namespace, key, new ArrayList<>()))
              .ids()
              .add(id);
        }
      }
    }
    Map<Long, Long> waiting = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql.waitingOfKeys(keys.size()))) {
      dialect.bindIds(ps, 1, keys);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          waiting.put(rs.getLong("order_key"), rs.getLong("waiting"));
        }
      }
    }
    List<BlockedKey> blocked = new ArrayList<>(keys.size());
    for (Long k : keys) {
      Dead d = dead.get(k);
      if (d != null) { // purged between the statements
        blocked.add(new BlockedKey(d.namespace(), d.key(), d.ids(), waiting.getOrDefault(k, 0L)));
      }
    }
    return blocked;
  }

  @Override
  public int purgeDeadLetters(Collection<Long> ids) {
    int purged = 0;
    for (List<Long> chunk : chunks(sorted(ids))) {
      purged +=
          tx.statement(
              "purge of " + chunk.size() + " dead letters",
              c -> {
                try (PreparedStatement ps =
                    c.prepareStatement(sql.deleteDeadLetters(chunk.size()))) {
                  dialect.bindIds(ps, 1, chunk);
                  return ps.executeUpdate();
                }
              });
    }
    return purged;
  }

  /** Purges in statements of 1,000 dead letters. */
  @Override
  public int purgeAllDeadLetters() {
    int purged = 0;
    while (true) {
      int n =
          tx.statement(
              "purge of all dead letters",
              c -> {
                try (PreparedStatement ps = c.prepareStatement(sql.purgeDeadLettersPage)) {
                  ps.setInt(1, CHUNK);
                  return ps.executeUpdate();
                }
              });
      purged += n;
      if (n < CHUNK) {
        return purged;
      }
    }
  }

  // ---------------------------------------------------------------- statistics

  /**
   * One round trip: counts over the outbox table, the oldest pending entry found by the primary key
   * (the entry with the smallest id; no scan), and a count of the dead letters.
   */
  @Override
  public OutboxStats stats(Instant now) {
    Objects.requireNonNull(now, "now");
    return tx.statement(
        "statistics",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql.stats)) {
            dialect.setInstant(ps, 1, now);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              Instant oldest = dialect.getInstant(rs, "oldest");
              return OutboxStats.builder()
                  .pending(rs.getLong("pending"))
                  .claimed(rs.getLong("claimed"))
                  .failing(rs.getLong("failing"))
                  .deadLetters(rs.getLong("dead_letters"))
                  .oldestPendingAge(oldest == null ? Duration.ZERO : Duration.between(oldest, now))
                  .build();
            }
          }
        });
  }

  /** The statistics query, for EXPLAIN in tests and READMEs. */
  String statsSql() {
    return sql.stats;
  }

  /** The statements of this storage, for tests. */
  Sql sql() {
    return sql;
  }

  /** Runs work the way every unit of the storage's own work runs; for tests. */
  <R> R inTransaction(String operation, Transactions.Work<R> work) {
    return tx.transaction(operation, work);
  }

  @Override
  public String toString() {
    return "JdbcStorage{dialect="
        + dialect
        + ", table="
        + table
        + ", maxRetries="
        + maxRetries
        + ", retryBackoff="
        + retryBackoff
        + ", ordering="
        + ordering
        + ", leaseMode="
        + leaseMode
        + "}";
  }

  private static List<Long> sorted(Collection<Long> ids) {
    Objects.requireNonNull(ids, "ids");
    return ids.stream().distinct().sorted().toList();
  }

  /** Splits a list into sublists of at most {@link #CHUNK} elements; none for an empty list. */
  static <E> List<List<E>> chunks(List<E> all) {
    List<List<E>> chunks = new ArrayList<>();
    for (int from = 0; from < all.size(); from += CHUNK) {
      chunks.add(all.subList(from, Math.min(all.size(), from + CHUNK)));
    }
    return chunks;
  }

  // ---------------------------------------------------------------- builder

  /**
   * Builds a {@link JdbcStorage}. {@link #build()} checks every setting at once and names each bad
   * one.
   *
   * <table>
   *   <caption>Settings</caption>
   *   <tr><th>setting</th><th>default</th><th>allowed</th></tr>
   *   <tr><td>dialect</td><td>detected from the data source (one connection at build)</td>
   *   <td>{@link JdbcDialect#postgres()}, {@link JdbcDialect#mysql()}</td></tr>
   *   <tr><td>tableName</td><td>{@code outbox}</td><td>{@code table} or {@code schema.table};
   *   PostgreSQL: lower-case identifiers, the table part at most 50 characters; MySQL: letters,
   *   digits and underscores, at most 51</td></tr>
   *   <tr><td>maxRetries</td><td>5</td><td>0 to 100</td></tr>
   *   <tr><td>retryBackoff</td><td>10 ms (doubling per retry, jittered, at most 1 s)</td>
   *   <td>0 to 10 s</td></tr>
   *   <tr><td>ordering</td><td>{@link Ordering#NONE}</td><td>any {@link Ordering}; see the
   *   class comment</td></tr>
   *   <tr><td>leaseMode</td><td>{@link LeaseMode#ROW}</td><td>{@link LeaseMode#ROW}, {@link
   *   LeaseMode#LOCK}</td></tr>
   *   <tr><td>lockHoldLimit (LOCK)</td><td>5 s</td><td>1 ms to 10 min</td></tr>
   *   <tr><td>maxLockedClaims (LOCK)</td><td>4</td><td>1 to 1000</td></tr>
   * </table>
   */
  public static final class Builder {

    static final int MAX_RETRIES = 100;
    static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    static final Duration MAX_LOCK_HOLD = Duration.ofMinutes(10);
    static final int MAX_LOCKED_CLAIMS = 1000;

    private final DataSource dataSource;
    private JdbcDialect dialect;
    private String tableName = DEFAULT_TABLE_NAME;
    private int maxRetries = 5;
    private Duration retryBackoff = Duration.ofMillis(10);
    private Ordering ordering = Ordering.NONE;
    private LeaseMode leaseMode = LeaseMode.ROW;
    private Duration lockHoldLimit = Duration.ofSeconds(5);
    private int maxLockedClaims = 4;

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource must not be null");
    }

    /** The database's dialect; when not set, {@link #build()} detects it. */
    public Builder dialect(JdbcDialect dialect) {
      this.dialect = dialect;
      return this;
    }

    /**
     * The outbox table, {@code table} or {@code schema.table} (MySQL: {@code database.table});
     * default {@code outbox}. The dead-letter table is named after it with {@code _dead_letters}
     * appended.
     */
    public Builder tableName(String tableName) {
      this.tableName = tableName;
      return this;
    }

    /**
     * How often a unit of the storage's work that the database rolled back as a deadlock victim, a
     * serialization failure or a lock wait timeout is retried before the failure is thrown.
     */
    public Builder maxRetries(int maxRetries) {
      this.maxRetries = maxRetries;
      return this;
    }

    /**
     * The pause before the first retry; it doubles per further retry (at most 1 s) and is randomly
     * shortened by up to half. {@link Duration#ZERO} retries at once.
     */
    public Builder retryBackoff(Duration retryBackoff) {
      this.retryBackoff = retryBackoff;
      return this;
    }

    /**
     * Whether, and how, the storage keeps each key's messages in order; default {@link
     * Ordering#NONE}. Ordered modes lock each key in {@code publish} (writers of one key serialize
     * from publish to commit) and claim a key's messages one run at a time; see the class comment.
     * They need the {@code order_key} column and indexes of the current schema (tables created
     * before it: run {@code dev/outbox/<database>/upgrade-order-key.sql}). Every writer of a table
     * must use the same ordering.
     */
    public Builder ordering(Ordering ordering) {
      this.ordering = ordering;
      return this;
    }

    /**
     * How a claim holds its entries while they are published; {@link LeaseMode#ROW} by default.
     *
     * <p>{@link LeaseMode#LOCK}: the claim is a {@code SELECT ... FOR UPDATE SKIP LOCKED} in a
     * transaction kept open on a connection of the data source until the claim's entries are
     * deleted, released or dead-lettered (or the outbox finishes the claim); no lease is written. A
     * processor that dies mid-batch loses its connection, its transaction rolls back and its
     * entries are claimable at once. Each claim in flight holds one connection (at most {@link
     * #maxLockedClaims}); a transaction stays open at most {@link #lockHoldLimit}, or until the
     * outbox's first lease renewal (half its claim duration), whichever comes first, and is then
     * converted into an ordinary row lease. {@code stats()} counts lock-held entries as pending,
     * not claimed.
     */
    public Builder leaseMode(LeaseMode leaseMode) {
      this.leaseMode = leaseMode;
      return this;
    }

    /**
     * {@link LeaseMode#LOCK}: how long a claim may keep its transaction open (default 5 s). When a
     * publish takes longer, the entries still held are written a row lease until the claim's
     * deadline and the transaction commits; the claim then goes on as a row lease. Bounds how long
     * a slow broker keeps a transaction (and its connection, and PostgreSQL's xmin horizon) open.
     */
    public Builder lockHoldLimit(Duration lockHoldLimit) {
      this.lockHoldLimit = lockHoldLimit;
      return this;
    }

    /**
     * {@link LeaseMode#LOCK}: at most this many claims hold a connection (and a transaction) at
     * once (default 4); a claim made while that many are held takes a row lease instead. Size the
     * pool for it: each one is a connection the rest of the application cannot use meanwhile.
     */
    public Builder maxLockedClaims(int maxLockedClaims) {
      this.maxLockedClaims = maxLockedClaims;
      return this;
    }

    /**
     * Builds the storage. Touches the database only to detect the dialect when none was set.
     *
     * @throws IllegalArgumentException naming every bad setting
     */
    public JdbcStorage build() {
      JdbcDialect d = dialect == null ? JdbcDialect.detect(dataSource) : dialect;
      List<String> problems = new ArrayList<>();
      TableName table = null;
      try {
        table = TableName.parse(tableName, d.identifiers());
      } catch (IllegalArgumentException e) {
        problems.add(e.getMessage());
      }
      if (maxRetries < 0 || maxRetries > MAX_RETRIES) {
        problems.add("maxRetries is " + maxRetries + "; allowed are 0 to " + MAX_RETRIES);
      }
      if (retryBackoff == null
          || retryBackoff.isNegative()
          || retryBackoff.compareTo(MAX_BACKOFF) > 0) {
        problems.add("retryBackoff is " + retryBackoff + "; allowed are 0 to " + MAX_BACKOFF);
      }
      if (ordering == null) {
        problems.add("ordering is null; allowed are " + Arrays.toString(Ordering.values()));
      }
      if (leaseMode == LeaseMode.LOCK && ordering != null && ordering.byKey()) {
        problems.add(
            "leaseMode LOCK does not support ordering "
                + ordering
                + " yet (its claim hands out entries without the ordered claim's per-key heads);"
                + " use leaseMode ROW with ordering");
      }
      if (leaseMode == null) {
        problems.add("leaseMode is null; allowed are ROW and LOCK");
      }
      if (lockHoldLimit == null
          || lockHoldLimit.compareTo(Duration.ofMillis(1)) < 0
          || lockHoldLimit.compareTo(MAX_LOCK_HOLD) > 0) {
        problems.add(
            "lockHoldLimit is " + lockHoldLimit + "; allowed are 1 ms to " + MAX_LOCK_HOLD);
      }
      if (maxLockedClaims < 1 || maxLockedClaims > MAX_LOCKED_CLAIMS) {
        problems.add(
            "maxLockedClaims is " + maxLockedClaims + "; allowed are 1 to " + MAX_LOCKED_CLAIMS);
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException(
            "invalid " + d.name() + " storage settings: " + String.join("; ", problems));
      }
      return new JdbcStorage(this, d, table);
    }
  }
}
