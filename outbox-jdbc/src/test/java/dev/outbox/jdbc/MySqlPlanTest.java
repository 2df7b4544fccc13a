package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * On MySQL/MariaDB over a large backlog: the claim's derived table walks the primary key and the
 * outbox is joined by primary key; statistics find the oldest entry by the primary key. The plans
 * are printed; the module README shows them.
 */
class MySqlPlanTest {

  private static final TestDatabase.Kind DB = TestDatabase.Kind.MYSQL;
  private static final String TABLE = TestDatabase.PREFIX + "explain";
  private static final int BACKLOG = 200_000;
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  private static JdbcStorage storage;

  @BeforeAll
  static void loadALargeBacklog() {
    storage = TestDatabase.freshStorage(DB, TABLE);
    String digits =
        "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4"
            + " UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION"
            + " ALL SELECT 9)";
    // 200k available entries; the oldest 1,000 are claimed by someone until later.
    TestDatabase.execute(
        DB,
        "INSERT INTO "
            + TABLE
            + " (message_id, namespace, msg_key, payload, headers, created_at, available_at,"
            + " claim_token, processor_id)"
            + " SELECT UNHEX(REPLACE(UUID(), '-', '')), 'load', CONCAT('k', n % 100),"
            + " REPEAT('x', 200), '{}', '2025-12-31 23:59:00',"
            + " IF(n < 1000, '2026-01-01 00:00:30', '1970-01-01 00:00:00'),"
            + " IF(n < 1000, UNHEX(REPLACE(UUID(), '-', '')), NULL), IF(n < 1000, 'someone', NULL)"
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
        "ANALYZE TABLE " + TABLE);
  }

  @AfterAll
  static void dropTheBacklog() {
    TestDatabase.execute(DB, "DROP TABLE " + TABLE, "DROP TABLE " + TABLE + "_dead_letters");
  }

  @Test
  void theClaimWalksThePrimaryKeyAndJoinsByIt() throws SQLException {
    String claim =
        "UPDATE (SELECT id FROM "
            + TABLE
            + " WHERE available_at <= ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) c"
            + " STRAIGHT_JOIN "
            + TABLE
            + " o ON o.id = c.id SET o.claim_token = ?, o.processor_id = ?, o.available_at = ?";
    List<String> plan =
        explain(
            claim,
            ps -> {
              storage.dialect().setInstant(ps, 1, NOW);
              ps.setInt(2, 100);
              storage.dialect().setUuid(ps, 3, UUID.randomUUID());
              ps.setString(4, "p1");
              storage.dialect().setInstant(ps, 5, NOW.plusSeconds(30));
            });
    print("claim", plan);

    assertThat(plan)
        .as("the outbox is reached by primary key from the derived table")
        .anyMatch(l -> l.contains("| o |") && l.contains("eq_ref") && l.contains("PRIMARY"));
    assertThat(plan)
        .as("the derived table reads the primary key in order")
        .anyMatch(l -> l.contains("DERIVED") && l.contains("PRIMARY") && !l.contains("filesort"));
    assertThat(String.join("\n", plan)).doesNotContain("filesort");
  }

  @Test
  void statisticsFindTheOldestEntryByThePrimaryKey() throws SQLException {
    List<String> plan = explain(storage.statsSql(), ps -> storage.dialect().setInstant(ps, 1, NOW));
    print("stats", plan);

    assertThat(plan)
        .as("the oldest entry: the primary key, in order, one row")
        .anyMatch(l -> l.contains("SUBQUERY") && l.contains("| index |") && l.contains("PRIMARY"));
    assertThat(String.join("\n", plan)).doesNotContain("filesort");
    assertThat(storage.stats(NOW).oldestPendingAge()).hasSeconds(60);

    // EXPLAIN's rows column estimates a whole walk of the index; executed, LIMIT 1 stops it at the
    // first row. ANALYZE (MariaDB) / EXPLAIN ANALYZE (MySQL) runs it and shows the real count.
    String oldest = storage.sql().oldest();
    boolean mariaDb =
        explain("SELECT VERSION()", ps -> {}).get(1).toLowerCase(Locale.ROOT).contains("mariadb");
    List<String> analyzed = explain((mariaDb ? "ANALYZE " : "EXPLAIN ANALYZE ") + oldest, ps -> {});
    print("ANALYZE of the oldest-entry subquery", analyzed);
    assertThat(analyzed)
        .as("the rows actually read")
        .anyMatch(l -> mariaDb ? l.contains("| 1.00 |") : l.contains("rows=1"));
  }

  private interface Binder {
    void bind(PreparedStatement ps) throws SQLException;
  }

  private static List<String> explain(String statement, Binder binder) throws SQLException {
    List<String> plan = new ArrayList<>();
    String explained =
        statement.startsWith("ANALYZE")
                || statement.startsWith("EXPLAIN")
                || statement.startsWith("SELECT VERSION")
            ? statement
            : "EXPLAIN " + statement;
    try (Connection c = TestDatabase.connect(DB);
        PreparedStatement ps = c.prepareStatement(explained)) {
      binder.bind(ps);
      try (ResultSet rs = ps.executeQuery()) {
        ResultSetMetaData md = rs.getMetaData();
        StringBuilder header = new StringBuilder("|");
        for (int i = 1; i <= md.getColumnCount(); i++) {
          header.append(' ').append(md.getColumnLabel(i)).append(" |");
        }
        plan.add(header.toString());
        while (rs.next()) {
          StringBuilder row = new StringBuilder("|");
          for (int i = 1; i <= md.getColumnCount(); i++) {
            row.append(' ').append(rs.getString(i)).append(" |");
          }
          plan.add(row.toString());
        }
      }
    }
    return plan;
  }

  private static void print(String title, List<String> plan) {
    System.out.println("EXPLAIN " + title + " over " + BACKLOG + " rows:");
    plan.forEach(line -> System.out.println("  " + line));
  }
}
