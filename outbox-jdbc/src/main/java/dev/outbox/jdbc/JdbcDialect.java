package dev.outbox.jdbc;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.FailedEntry;
import dev.outbox.NewEntry;
import dev.outbox.OutboxException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * What one database needs of the {@link JdbcStorage} engine: its SQL, how it binds and reads times,
 * UUIDs and id lists, its identifier rules and schema file, and the two or three operations whose
 * best form differs between databases (writing a batch, claiming, releasing). Everything else
 * (transactions, retries, row mapping, table names, schema rendering, the header codec) is the
 * engine's and shared.
 *
 * <p>Get one from {@link #postgres()}, {@link #mysql()} or {@link #detect(DataSource)}. Immutable
 * and thread-safe. Not meant to be implemented outside this package.
 */
public abstract class JdbcDialect {

  JdbcDialect() {}

  /** PostgreSQL 12 or later; {@code publish} sends no notification. */
  public static JdbcDialect postgres() {
    return new PostgresDialect(null);
  }

  /**
   * PostgreSQL 12 or later, and every publish (and requeue) also runs {@code pg_notify(channel,
   * '')} in the same statement, which PostgreSQL delivers to listeners when the transaction
   * commits.
   *
   * @throws IllegalArgumentException when the channel is empty, longer than 63 bytes of UTF-8 or
   *     holds a NUL character
   */
  public static JdbcDialect postgres(String notifyChannel) {
    String problem = PostgresDialect.channelProblem(notifyChannel);
    if (problem != null) {
      throw new IllegalArgumentException("notifyChannel \"" + notifyChannel + "\" " + problem);
    }
    return new PostgresDialect(notifyChannel);
  }

  /** MySQL 8.0 or later, or MariaDB 10.6 or later, with InnoDB tables. */
  public static JdbcDialect mysql() {
    return new MySqlDialect();
  }

  /**
   * The dialect for the database behind {@code dataSource}, from {@link
   * java.sql.DatabaseMetaData#getDatabaseProductName()}: PostgreSQL, MySQL or MariaDB. Borrows one
   * connection.
   *
   * @throws IllegalArgumentException naming the product when it is none of those
   * @throws OutboxException when no connection can be had
   */
  public static JdbcDialect detect(DataSource dataSource) {
    String product;
    try (Connection c = dataSource.getConnection()) {
      product = c.getMetaData().getDatabaseProductName();
    } catch (SQLException e) {
      throw new OutboxException(
          "cannot detect the database's dialect: " + SqlErrors.describe(e), e);
    }
    return forProduct(product);
  }

  static JdbcDialect forProduct(String product) {
    String p = product == null ? "" : product.toLowerCase(Locale.ROOT);
    if (p.contains("postgresql")) {
      return postgres();
    }
    if (p.contains("mysql") || p.contains("mariadb")) {
      return mysql();
    }
    throw new IllegalArgumentException(
        "no outbox dialect for the database product \""
            + product
            + "\"; supported are PostgreSQL, MySQL and MariaDB");
  }

  /** The database's name, for messages: {@code PostgreSQL} or {@code MySQL/MariaDB}. */
  public abstract String name();

  @Override
  public String toString() {
    return name();
  }

  // ---------------------------------------------------------------- questions the engine asks

  /** The table-name rules. */
  abstract TableName.Rules identifiers();

  /** The schema file on the class path. */
  abstract String schemaResource();

  /** Runs first in every unit of the storage's own work (e.g. to set the isolation level). */
  abstract void beginWork(Connection c) throws SQLException;

  /** Runs before the schema statements, in the same transaction (e.g. to take a lock). */
  void lockSchema(Connection c, TableName table) throws SQLException {}

  /** Binds an instant (UTC, microseconds). */
  abstract void setInstant(PreparedStatement ps, int index, Instant t) throws SQLException;

  /** Reads an instant; null for SQL NULL. */
  abstract Instant getInstant(ResultSet rs, String column) throws SQLException;

  /** Binds a UUID. */
  abstract void setUuid(PreparedStatement ps, int index, UUID id) throws SQLException;

  /** Reads a UUID. */
  abstract UUID getUuid(ResultSet rs, String column) throws SQLException;

  /** The condition that {@code column} is one of {@code n} ids, e.g. {@code id IN (?,?)}. */
  abstract String idIn(String column, int n);

  /** Binds ids for {@link #idIn}; returns the next parameter index. */
  abstract int bindIds(PreparedStatement ps, int index, Collection<Long> ids) throws SQLException;

  /** The select-list expression that reads the headers column as text, named {@code headers}. */
  abstract String headersAsText(String column);

  /** What {@code INSERT} needs to write explicit ids into the outbox table (requeue). */
  abstract String overridingIdentity();

  /** Deletes up to {@code ?} dead letters, smallest id first. */
  abstract String purgeDeadLettersPage(TableName table);

  // ---------------------------------------------------------------- operations that differ

  /**
   * Writes entries in the caller's transaction, in list order. {@code orderKeys} is null for an
   * unordered storage (its statements never name {@code order_key}); an ordered one passes each
   * entry's order key (or null for an entry without a key), written with it.
   */
  abstract void insert(Connection c, Sql sql, List<NewEntry> entries, Long[] orderKeys)
      throws SQLException;

  /** Whether {@link #claim} must run in one transaction (else its write is one statement). */
  abstract boolean claimNeedsTransaction();

  /** Claims entries; returns them in any order. */
  abstract List<ClaimedEntry> claim(Connection c, Sql sql, ClaimRequest request)
      throws SQLException;

  /**
   * Records failures of entries that still carry the token; by default a batch of one {@code
   * UPDATE} per entry in id order, in one transaction.
   */
  int release(Connection c, Sql sql, UUID token, List<FailedEntry> sortedFailures)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql.releaseOne)) {
      for (FailedEntry f : sortedFailures) {
        ps.setInt(1, f.attempts());
        ps.setString(2, Sql.description(f.error()));
        setInstant(ps, 3, f.retryAt());
        ps.setLong(4, f.id());
        setUuid(ps, 5, token);
        ps.addBatch();
      }
      int updated = 0;
      for (int n : ps.executeBatch()) {
        updated += Math.max(n, 0);
      }
      return updated;
    }
  }

  /**
   * Records failures of entries the caller's transaction holds locked ({@link LeaseMode#LOCK}):
   * like {@link #release}, fenced by the lock instead of the token. By default a batch of one
   * {@code UPDATE} per entry in id order.
   */
  int releaseHeld(Connection c, Sql sql, List<FailedEntry> sortedFailures) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE "
                + sql.t
                + " SET attempts = ?, last_error = ?, claim_token = NULL, available_at = ?"
                + " WHERE id = ?")) {
      for (FailedEntry f : sortedFailures) {
        ps.setInt(1, f.attempts());
        ps.setString(2, Sql.description(f.error()));
        setInstant(ps, 3, f.retryAt());
        ps.setLong(4, f.id());
        ps.addBatch();
      }
      int updated = 0;
      for (int n : ps.executeBatch()) {
        updated += Math.max(n, 0);
      }
      return updated;
    }
  }

  /**
   * Deletes the last entries a lock-held claim holds, as the last statement of its transaction; the
   * caller commits afterwards. A dialect may end the transaction in the same round trip, and the
   * caller's commit is then a no-op. By default a plain {@code DELETE}.
   */
  int deleteLast(Connection c, Sql sql, List<Long> ids) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql.deleteEntries(ids.size()))) {
      bindIds(ps, 1, ids);
      return ps.executeUpdate();
    }
  }

  /** Whether {@link #release} must run in one transaction. */
  boolean releaseNeedsTransaction() {
    return true;
  }

  // ---------------------------------------------------------------- ordered storages

  /**
   * Whether {@code createSchema()} must run this statement of the schema script; by default every
   * one (they are idempotent). A dialect skips one whose idempotent form still takes a lock that
   * would stall writers at every start.
   */
  boolean schemaStatementNeeded(Connection c, String statement) throws SQLException {
    return true;
  }

  /**
   * Ordered publish, in the caller's transaction: takes the lock of each order key, in the given
   * (ascending) order, held until that transaction ends. Called before {@link #insert}.
   */
  abstract void lockKeys(Connection c, Sql sql, long[] sortedOrderKeys) throws SQLException;

  /** Whether {@link #claimOrdered} must run in one transaction. */
  abstract boolean orderedClaimNeedsTransaction();

  /**
   * The ordered claim: entries without a key as usual; of a key, only its head (no older entry of
   * the key in the outbox, and in the blocking mode none among the dead letters) and at most {@code
   * maxPerKey - 1} available entries right behind it. Returns them in any order.
   */
  abstract List<ClaimedEntry> claimOrdered(
      Connection c, Sql sql, ClaimRequest request, boolean blocking) throws SQLException;

  /** Runs after entries became available again in a transaction (requeue), before its commit. */
  void afterRequeue(Connection c) throws SQLException {}

  /** The bytes of a UUID, big-endian: the 16-byte form MySQL keeps. */
  static byte[] bytes(UUID id) {
    byte[] b = new byte[16];
    long msb = id.getMostSignificantBits();
    long lsb = id.getLeastSignificantBits();
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (msb >>> (56 - 8 * i));
      b[8 + i] = (byte) (lsb >>> (56 - 8 * i));
    }
    return b;
  }

  /** The UUID of 16 big-endian bytes; null for null. */
  static UUID uuid(byte[] b) {
    if (b == null) {
      return null;
    }
    if (b.length != 16) {
      throw new IllegalStateException("a UUID column holds " + b.length + " bytes, not 16");
    }
    long msb = 0;
    long lsb = 0;
    for (int i = 0; i < 8; i++) {
      msb = (msb << 8) | (b[i] & 0xff);
      lsb = (lsb << 8) | (b[8 + i] & 0xff);
    }
    return new UUID(msb, lsb);
  }
}
