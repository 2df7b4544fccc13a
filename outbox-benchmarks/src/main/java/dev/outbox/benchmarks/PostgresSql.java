package dev.outbox.benchmarks;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import javax.sql.DataSource;

/** PostgreSQL's plain-SQL side; see {@link SqlDatabase}. */
final class PostgresSql extends SqlDatabase {

  private static final String COLUMNS =
      "id, namespace, msg_key, payload, headers::text, created_at, attempts";

  /** The lease: the adapter's claim shape, as the issue writes it, then one DELETE per batch. */
  private static final String LEASE =
      "UPDATE "
          + TABLE
          + " SET processor_id = ?, available_at = ? WHERE id IN (SELECT id FROM "
          + TABLE
          + " WHERE available_at <= ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING "
          + COLUMNS;

  private static final String DELETE_LEASED =
      "DELETE FROM " + TABLE + " WHERE id = ANY(?) AND processor_id = ?";

  /** Take and delete in one statement: the floor any relay that deletes rows has to pay. */
  private static final String DELETE_RETURNING =
      "DELETE FROM "
          + TABLE
          + " WHERE id IN (SELECT id FROM "
          + TABLE
          + " WHERE available_at <= ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING "
          + COLUMNS;

  private static final String INSERT =
      "INSERT INTO "
          + TABLE
          + " (message_id, namespace, msg_key, payload, headers, created_at, available_at)"
          + " VALUES (gen_random_uuid(), ?, ?, ?, CAST(? AS jsonb), ?, ?)";

  PostgresSql(DataSource ds) {
    super(ds);
  }

  @Override
  void reset() throws SQLException {
    execute("TRUNCATE " + TABLE + " RESTART IDENTITY");
  }

  @Override
  void analyze() throws SQLException {
    execute("ANALYZE " + TABLE);
  }

  @Override
  void loadBacklog(int n, byte[] payload) throws SQLException {
    // One INSERT ... SELECT: the server generates the rows, nothing crosses the wire per row.
    // available_at is a minute back so that the JVM's and the server's clocks needn't agree.
    String sql =
        "INSERT INTO "
            + TABLE
            + " (message_id, namespace, msg_key, payload, headers, created_at, available_at)"
            + " SELECT gen_random_uuid(), ?, convert_to('k' || g, 'UTF8'), ?, '{}'::jsonb, now(),"
            + " now() - interval '1 minute' FROM generate_series(1, ?) AS g";
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, NAMESPACE);
      ps.setBytes(2, payload);
      ps.setInt(3, n);
      ps.executeUpdate();
    }
    analyze();
  }

  @Override
  String insertSql() {
    return INSERT;
  }

  @Override
  Object now() {
    return OffsetDateTime.now(ZoneOffset.UTC);
  }

  @Override
  int leaseOnce(Connection c, String processor, int limit, Timings t) throws SQLException {
    long start = System.nanoTime();
    Instant now = Instant.now();
    Long[] ids = new Long[limit];
    int n = 0;
    try (PreparedStatement ps = c.prepareStatement(LEASE)) {
      ps.setString(1, processor);
      ps.setObject(2, OffsetDateTime.ofInstant(now.plusSeconds(30), ZoneOffset.UTC));
      ps.setObject(3, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
      ps.setInt(4, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids[n++] = rs.getLong(1);
          readRest(rs);
        }
      }
    }
    t.claimed(start);
    if (n == 0) {
      return 0;
    }
    start = System.nanoTime();
    try (PreparedStatement ps = c.prepareStatement(DELETE_LEASED)) {
      Array array = c.createArrayOf("bigint", n == limit ? ids : java.util.Arrays.copyOf(ids, n));
      ps.setArray(1, array);
      ps.setString(2, processor);
      ps.executeUpdate();
    }
    t.deleted(start);
    return n;
  }

  @Override
  int deleteOnce(Connection c, int limit, Timings t) throws SQLException {
    long start = System.nanoTime();
    int n = 0;
    try (PreparedStatement ps = c.prepareStatement(DELETE_RETURNING)) {
      ps.setObject(1, OffsetDateTime.now(ZoneOffset.UTC));
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rs.getLong(1);
          readRest(rs);
          n++;
        }
      }
    }
    t.deleted(start);
    return n;
  }

  /** Reads the columns a relay needs, so the loops pay for the bytes on the wire too. */
  private static void readRest(ResultSet rs) throws SQLException {
    rs.getString(2);
    rs.getBytes(3);
    rs.getBytes(4);
    rs.getString(5);
    rs.getObject(6, OffsetDateTime.class);
    rs.getInt(7);
  }
}
