package dev.outbox.benchmarks;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * The benchmark's plain-SQL side of one database: loading and resetting the outbox table, the
 * hand-written producer baseline, and the lease and delete loops that measure what the database
 * itself can do. The table is the adapter's (created by its {@code createSchema()}), so both sides
 * work on the same rows.
 */
abstract class SqlDatabase {

  /**
   * The outbox table every figure of ours and every plain-SQL loop uses: {@code benchmarks_outbox},
   * or the system property {@code outbox.bench.table}, so that two benchmarks on one shared server
   * need not share a table (or a NOTIFY channel, which follows the table name).
   */
  static final String TABLE = System.getProperty("outbox.bench.table", "benchmarks_outbox");

  /** The namespace of every benchmark message. */
  static final String NAMESPACE = "bench";

  final DataSource ds;

  SqlDatabase(DataSource ds) {
    this.ds = ds;
  }

  static SqlDatabase of(Options.Db db, DataSource ds) {
    return db == Options.Db.POSTGRES ? new PostgresSql(ds) : new MySqlSql(ds);
  }

  /** The server's version string. */
  String version() throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT version()")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** Empties the outbox table (and resets its id sequence). */
  abstract void reset() throws SQLException;

  /** Refreshes the planner's statistics after a load. */
  abstract void analyze() throws SQLException;

  /** Fills the table with {@code n} messages of this payload, all available at once. */
  abstract void loadBacklog(int n, byte[] payload) throws SQLException;

  /**
   * The INSERT of one row, binding namespace, key, payload, headers (JSON text), created_at and
   * available_at in that order.
   */
  abstract String insertSql();

  /** The current time as this driver binds a timestamp column. */
  abstract Object now();

  /**
   * Writes {@code count} messages with keys {@code k<first>...} in one transaction, as a person
   * would without a library: one batched INSERT, one commit.
   */
  void insertBatch(Connection c, int first, int count, byte[] payload) throws SQLException {
    c.setAutoCommit(false);
    Object now = now();
    try (PreparedStatement ps = c.prepareStatement(insertSql())) {
      for (int i = first; i < first + count; i++) {
        ps.setString(1, NAMESPACE);
        ps.setBytes(2, key(i));
        ps.setBytes(3, payload);
        ps.setString(4, "{}");
        ps.setObject(5, now);
        ps.setObject(6, now);
        ps.addBatch();
      }
      ps.executeBatch();
    }
    c.commit();
  }

  /**
   * Writes message {@code i} alone in its own transaction on a connection of the pool, as a service
   * writes one row per business transaction: one INSERT, one commit.
   */
  void insertOne(int i, byte[] payload) throws SQLException {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      Object now = now();
      try (PreparedStatement ps = c.prepareStatement(insertSql())) {
        ps.setString(1, NAMESPACE);
        ps.setBytes(2, key(i));
        ps.setBytes(3, payload);
        ps.setString(4, "{}");
        ps.setObject(5, now);
        ps.setObject(6, now);
        ps.executeUpdate();
      }
      c.commit();
    }
  }

  /**
   * One lease-limit iteration on this connection: claim up to {@code limit} rows for {@code
   * processor}, read them, then delete them by id, with nothing in between; the claim and the
   * delete are timed into {@code t}.
   *
   * @return the rows handled; 0 when none was available
   */
  abstract int leaseOnce(Connection c, String processor, int limit, Timings t) throws SQLException;

  /**
   * One delete-limit iteration: take up to {@code limit} rows and delete them in one go, reading
   * them as they go; timed into {@code t} as a delete.
   *
   * @return the rows handled; 0 when none was available
   */
  abstract int deleteOnce(Connection c, int limit, Timings t) throws SQLException;

  /** Prepares whatever per-connection state the loops need (e.g. autocommit). */
  void prepareLoopConnection(Connection c) throws SQLException {}

  long count() throws SQLException {
    return count(TABLE);
  }

  long count(String table) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  void execute(String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** The key of message {@code i}, as every producer of the benchmark writes it. */
  static byte[] key(int i) {
    return ("k" + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }
}
