package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * On PostgreSQL over a large backlog: the claim stays an index scan on the primary key (no
 * sequential scan, no sort), and statistics find the oldest entry by the primary key instead of
 * scanning for {@code min(created_at)}. The plans are printed; the module README shows them.
 */
class ClaimPlanTest {

  private static final TestDatabase.Kind DB = TestDatabase.Kind.POSTGRES;
  private static final String TABLE = TestDatabase.PREFIX + "explain";
  private static final int BACKLOG = 200_000;
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  private static JdbcStorage storage;
  private static PostgresDialect dialect;

  @BeforeAll
  static void loadALargeBacklog() throws SQLException {
    storage = TestDatabase.freshStorage(DB, TABLE);
    dialect = (PostgresDialect) storage.dialect();
    try (Connection c = TestDatabase.connect(DB);
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO "
                    + TABLE
                    + " (message_id, namespace, msg_key, payload, created_at, available_at,"
                    + " claim_token, processor_id)"
                    + " SELECT gen_random_uuid(), 'load', convert_to('k' || (i % 100), 'UTF8'),"
                    + " convert_to(repeat('x', 200), 'UTF8'), ?,"
                    + " CASE WHEN i <= 1000 THEN ? ELSE to_timestamp(0) END,"
                    + " CASE WHEN i <= 1000 THEN gen_random_uuid() END,"
                    + " CASE WHEN i <= 1000 THEN 'someone' END"
                    + " FROM generate_series(1, ?) AS i")) {
      // 200k available entries; the oldest 1,000 are claimed by someone until later.
      dialect.setInstant(ps, 1, NOW.minusSeconds(60));
      dialect.setInstant(ps, 2, NOW.plusSeconds(30));
      ps.setInt(3, BACKLOG);
      ps.executeUpdate();
    }
    TestDatabase.execute(DB, "ANALYZE " + TABLE);
  }

  @AfterAll
  static void dropTheBacklog() {
    TestDatabase.execute(DB, "DROP TABLE " + TABLE + ", " + TABLE + "_dead_letters");
  }

  @Test
  void theClaimsRowSelectionIsAnIndexScanOnThePrimaryKey() throws SQLException {
    List<String> plan = explain(dialect.claimCandidates(storage.sql()), false);
    print("claim candidates (the CTE)", plan);

    String text = String.join("\n", plan);
    assertThat(text).contains("Index Scan using " + TABLE + "_pkey on " + TABLE);
    assertThat(text).doesNotContain("Seq Scan").doesNotContain("Sort");
    assertThat(text).contains("LockRows").contains("Limit");
  }

  @Test
  void theWholeClaimStatementScansNothingSequentially() throws SQLException {
    List<String> plan = explain(dialect.claimSql(storage.sql()), true);
    print("whole claim statement", plan);

    String text = String.join("\n", plan);
    assertThat(text).doesNotContain("Seq Scan").doesNotContain("Sort");
    assertThat(text).contains("Index Scan using " + TABLE + "_pkey");
  }

  @Test
  void statisticsFindTheOldestEntryByThePrimaryKey() throws SQLException {
    List<String> plan = new ArrayList<>();
    try (Connection c = TestDatabase.connect(DB);
        PreparedStatement ps = c.prepareStatement("EXPLAIN " + storage.statsSql())) {
      dialect.setInstant(ps, 1, NOW);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          plan.add(rs.getString(1));
        }
      }
    }
    print("stats", plan);

    String text = String.join("\n", plan);
    String oldest = text.substring(text.indexOf("InitPlan 1"), text.indexOf("InitPlan 2"));
    assertThat(oldest)
        .as("the oldest entry: a primary-key index scan stopped by LIMIT 1")
        .contains("Limit")
        .contains("Index Scan using " + TABLE + "_pkey")
        .doesNotContain("Seq Scan");
    assertThat(storage.stats(NOW).oldestPendingAge()).hasSeconds(60);
  }

  private static List<String> explain(String statement, boolean whole) throws SQLException {
    List<String> plan = new ArrayList<>();
    try (Connection c = TestDatabase.connect(DB);
        PreparedStatement ps = c.prepareStatement("EXPLAIN " + statement)) {
      dialect.setInstant(ps, 1, NOW);
      ps.setInt(2, 100);
      if (whole) {
        dialect.setUuid(ps, 3, UUID.randomUUID());
        ps.setString(4, "p1");
        dialect.setInstant(ps, 5, NOW.plusSeconds(30));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          plan.add(rs.getString(1));
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
