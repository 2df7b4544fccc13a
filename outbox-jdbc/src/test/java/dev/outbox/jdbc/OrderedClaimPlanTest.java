package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.Ordering;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The ordered claim over a backlog of 200,000 entries stays on indexes: it walks the primary key
 * and asks the {@code (order_key, id)} index whether an older entry of a key is left, on both
 * databases; no sequential scan, no sort of the table. Plans and timings are printed; the module
 * README shows them.
 *
 * <p>Two shapes: 20,000 keys whose oldest 1,000 entries are claimed (the walk soon finds free
 * heads), and the worst case, 100 hot keys whose heads are all claimed: every other entry is a
 * follower that waits, so a claim probes each of them once and finds nothing.
 */
class OrderedClaimPlanTest {

  private static final int BACKLOG = 200_000;
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void postgresClaimsOnIndexes() throws SQLException {
    TestDatabase.Kind db = TestDatabase.Kind.POSTGRES;
    String table = TestDatabase.PREFIX + "explain_ord";
    JdbcStorage storage = load(db, table, 20_000);
    try {
      PostgresDialect dialect = (PostgresDialect) storage.dialect();
      List<String> plan = new ArrayList<>();
      try (Connection c = TestDatabase.connect(db);
          PreparedStatement ps =
              c.prepareStatement("EXPLAIN " + dialect.orderedClaimSql(storage.sql(), true, true))) {
        dialect.setInstant(ps, 1, NOW);
        ps.setInt(2, 100);
        ps.setInt(3, 100);
        ps.setInt(4, 9);
        ps.setInt(5, 100);
        dialect.setInstant(ps, 6, NOW);
        dialect.setUuid(ps, 7, UUID.randomUUID());
        ps.setString(8, "p");
        dialect.setInstant(ps, 9, NOW.plusSeconds(30));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            plan.add(rs.getString(1));
          }
        }
      }
      print("PostgreSQL ordered claim (blocking, runs)", plan);
      String text = String.join("\n", plan);
      assertThat(text).doesNotContain("Seq Scan on " + table + " ");
      assertThat(text).contains("Index Scan using " + table + "_pkey on " + table + " o");
      assertThat(text).contains(table + "_order_idx");
      // The dead letters are looked up too; empty here, so the planner reads them whole.
      assertThat(text).contains(table + "_dead_letters d");
      time(db, storage);
      load(db, table, 100);
      time(db, storage);
    } finally {
      if (!System.getProperty("keepPlanTables", "false").equals("true")) {
        TestDatabase.execute(db, "DROP TABLE " + table + ", " + table + "_dead_letters");
      }
    }
  }

  @Test
  void mysqlClaimsOnIndexes() throws SQLException {
    TestDatabase.Kind db = TestDatabase.Kind.MYSQL;
    String table = TestDatabase.PREFIX + "explain_ord";
    JdbcStorage storage = load(db, table, 20_000);
    try {
      MySqlDialect dialect = (MySqlDialect) storage.dialect();
      List<String> rows = new ArrayList<>();
      try (Connection c = TestDatabase.connect(db);
          PreparedStatement ps =
              c.prepareStatement("EXPLAIN " + dialect.orderedCandidates(storage.sql(), true))) {
        dialect.setInstant(ps, 1, NOW);
        ps.setInt(2, 100);
        try (ResultSet rs = ps.executeQuery()) {
          ResultSetMetaData md = rs.getMetaData();
          while (rs.next()) {
            StringBuilder row = new StringBuilder();
            for (int i = 1; i <= md.getColumnCount(); i++) {
              row.append(md.getColumnLabel(i)).append('=').append(rs.getString(i)).append(' ');
            }
            rows.add(row.toString().trim());
          }
        }
      }
      print("MySQL/MariaDB ordered claim candidates (blocking)", rows);
      assertThat(rows.get(0)).contains("table=o").contains("key=PRIMARY");
      assertThat(String.join("\n", rows))
          .contains("table=p")
          .contains("key=order_idx")
          .contains("table=d")
          .doesNotContain("type=ALL");
      time(db, storage);
      load(db, table, 100);
      time(db, storage);
    } finally {
      if (!System.getProperty("keepPlanTables", "false").equals("true")) {
        TestDatabase.execute(
            db,
            "DROP TABLE " + table,
            "DROP TABLE " + table + "_dead_letters",
            "DROP TABLE " + table + "_key_locks");
      }
    }
  }

  /** Claims 100 (runs of up to 10) five times and prints the median time. */
  private static void time(TestDatabase.Kind db, JdbcStorage storage) {
    long[] micros = new long[5];
    int claimed = 0;
    for (int i = 0; i < micros.length; i++) {
      long start = System.nanoTime();
      List<ClaimedEntry> got =
          storage.claim(
              new ClaimRequest("p", UUID.randomUUID(), NOW, NOW.plusSeconds(30), 100, 10));
      micros[i] = (System.nanoTime() - start) / 1000;
      claimed += got.size();
    }
    java.util.Arrays.sort(micros);
    System.out.println(
        db
            + " ordered claim over "
            + BACKLOG
            + " entries ("
            + keys
            + " keys): median "
            + micros[2] / 1000.0
            + " ms, "
            + claimed
            + " entries in 5 claims");
  }

  private static int keys;

  /**
   * 200k entries of {@code keyCount} keys (every tenth without a key, unless there are at most 100
   * keys: the worst case has none), created in id order; the oldest 1,000 claimed by someone until
   * after NOW.
   */
  private static JdbcStorage load(TestDatabase.Kind db, String table, int keyCount) {
    keys = keyCount;
    JdbcStorage storage = TestDatabase.freshStorage(db, table, Ordering.BY_KEY_BLOCKING);
    if (db == TestDatabase.Kind.POSTGRES) {
      TestDatabase.execute(
          db,
          "INSERT INTO "
              + table
              + " (message_id, namespace, msg_key, payload, created_at, available_at, claim_token,"
              + " processor_id, order_key)"
              + " SELECT gen_random_uuid(), 'load', convert_to('k' || (i % "
              + keyCount
              + "), 'UTF8'), convert_to(repeat('x', 200), 'UTF8'), '2025-12-31T23:59:00Z',"
              + " CASE WHEN i <= 1000 THEN timestamptz '2026-01-01T00:00:30Z'"
              + " ELSE to_timestamp(0) END,"
              + " CASE WHEN i <= 1000 THEN gen_random_uuid() END,"
              + " CASE WHEN i <= 1000 THEN 'someone' END,"
              + " CASE WHEN i % 10 <> 0 OR "
              + keyCount
              + " <= 100 THEN i % "
              + keyCount
              + " END FROM generate_series(1, "
              + BACKLOG
              + ") AS i",
          "ANALYZE " + table,
          "ANALYZE " + table + "_dead_letters");
    } else {
      String digits =
          "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4"
              + " UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION"
              + " ALL SELECT 9)";
      TestDatabase.execute(
          db,
          "INSERT INTO "
              + table
              + " (message_id, namespace, msg_key, payload, headers, created_at, available_at,"
              + " claim_token, processor_id, order_key)"
              + " SELECT UNHEX(REPLACE(UUID(), '-', '')), 'load', CONCAT('k', n % "
              + keyCount
              + "), REPEAT('x', 200), '{}', '2025-12-31 23:59:00',"
              + " IF(n < 1000, '2026-01-01 00:00:30', '1970-01-01 00:00:00'),"
              + " IF(n < 1000, UNHEX(REPLACE(UUID(), '-', '')), NULL),"
              + " IF(n < 1000, 'someone', NULL), IF(n % 10 <> 0 OR "
              + keyCount
              + " <= 100, n % "
              + keyCount
              + ", NULL)"
              + " FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d"
              + " + 100000 * g.d AS n FROM "
              + digits
              + " a, "
              + digits
              + " b, "
              + digits
              + " c, "
              + digits
              + " e, "
              + digits
              + " f, (SELECT 0 d UNION ALL SELECT 1) g) s ORDER BY n",
          "ANALYZE TABLE " + table);
    }
    return storage;
  }

  private static void print(String title, List<String> plan) {
    System.out.println("EXPLAIN " + title + " over " + BACKLOG + " rows:");
    plan.forEach(line -> System.out.println("  " + line));
  }
}
