package dev.outbox.benchmarks;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import javax.sql.DataSource;

/**
 * MySQL's and MariaDB's plain-SQL side; see {@link SqlDatabase}. Neither accepts {@code LIMIT}
 * inside an {@code IN} subquery, so both loops select the rows with {@code FOR UPDATE SKIP LOCKED}
 * and change them by id inside one explicit transaction. Times are UTC {@code DATETIME(6)}.
 */
final class MySqlSql extends SqlDatabase {

  private static final String SELECT_FOR_UPDATE =
      "SELECT id, namespace, msg_key, payload, headers, created_at, attempts FROM "
          + TABLE
          + " WHERE available_at <= ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED";

  private static final String INSERT =
      "INSERT INTO "
          + TABLE
          + " (message_id, namespace, msg_key, payload, headers, created_at, available_at)"
          + " VALUES (UNHEX(REPLACE(UUID(), '-', '')), ?, ?, ?, ?, ?, ?)";

  MySqlSql(DataSource ds) {
    super(ds);
  }

  @Override
  void reset() throws SQLException {
    execute("TRUNCATE TABLE " + TABLE);
  }

  @Override
  void analyze() throws SQLException {
    execute("ANALYZE TABLE " + TABLE);
  }

  @Override
  void loadBacklog(int n, byte[] payload) throws SQLException {
    // Multi-row INSERTs of 1000 rows (rewriteBatchedStatements): portable across MySQL and
    // MariaDB, which disagree on row generators.
    try (Connection c = ds.getConnection()) {
      for (int first = 1; first <= n; first += 1000) {
        insertBatch(c, first, Math.min(1000, n - first + 1), payload);
      }
    }
    analyze();
  }

  @Override
  String insertSql() {
    return INSERT;
  }

  @Override
  Object now() {
    return LocalDateTime.now(ZoneOffset.UTC);
  }

  @Override
  void prepareLoopConnection(Connection c) throws SQLException {
    // As the adapter does: READ COMMITTED takes record locks only, no gap locks.
    c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
    c.setAutoCommit(false);
  }

  @Override
  int leaseOnce(Connection c, String processor, int limit, Timings t) throws SQLException {
    long start = System.nanoTime();
    LocalDateTime now = LocalDateTime.now(ZoneOffset.UTC);
    StringBuilder ids = new StringBuilder(limit * 8);
    int n = selectForUpdate(c, now, limit, ids);
    if (n == 0) {
      c.commit();
      t.claimed(start);
      return 0;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE "
                + TABLE
                + " SET processor_id = ?, available_at = ? WHERE id IN ("
                + ids
                + ")")) {
      ps.setString(1, processor);
      ps.setObject(2, now.plusSeconds(30));
      ps.executeUpdate();
    }
    c.commit();
    t.claimed(start);
    start = System.nanoTime();
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM " + TABLE + " WHERE id IN (" + ids + ") AND processor_id = ?")) {
      ps.setString(1, processor);
      ps.executeUpdate();
    }
    c.commit();
    t.deleted(start);
    return n;
  }

  @Override
  int deleteOnce(Connection c, int limit, Timings t) throws SQLException {
    long start = System.nanoTime();
    StringBuilder ids = new StringBuilder(limit * 8);
    int n = selectForUpdate(c, LocalDateTime.now(ZoneOffset.UTC), limit, ids);
    if (n > 0) {
      try (Statement s = c.createStatement()) {
        s.executeUpdate("DELETE FROM " + TABLE + " WHERE id IN (" + ids + ")");
      }
    }
    c.commit();
    t.deleted(start);
    return n;
  }

  /** Selects and locks up to {@code limit} rows, appending their ids (comma-separated). */
  private static int selectForUpdate(Connection c, LocalDateTime now, int limit, StringBuilder ids)
      throws SQLException {
    int n = 0;
    try (PreparedStatement ps = c.prepareStatement(SELECT_FOR_UPDATE)) {
      ps.setObject(1, now);
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (n++ > 0) {
            ids.append(',');
          }
          ids.append(rs.getLong(1));
          rs.getString(2);
          rs.getBytes(3);
          rs.getBytes(4);
          rs.getString(5);
          rs.getObject(6, LocalDateTime.class);
          rs.getInt(7);
        }
      }
    }
    return n;
  }
}
