package dev.outbox.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The claim stays an index scan on the primary key over a large backlog: no sequential scan, no
 * sort. The plans are printed; the module README shows them.
 */
class ClaimPlanTest {

  private static final String TABLE = "outbox_explain";
  private static final int BACKLOG = 200_000;
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  private static Jdbi jdbi;
  private static Sql sql;

  @BeforeEach
  void loadALargeBacklogOnce() {
    if (jdbi == null) { // once per class; per test so that each reports the skip
      loadALargeBacklog();
    }
  }

  private static void loadALargeBacklog() {
    jdbi = TestDatabase.get().jdbi();
    TestDatabase.freshStorage(jdbi, TABLE);
    sql = new Sql(TableName.parse(TABLE), true);
    jdbi.useHandle(
        h -> {
          // 200k available entries; the oldest 1,000 are claimed by someone until later.
          h.createUpdate(
                  "INSERT INTO "
                      + TABLE
                      + " (namespace, msg_key, payload, created_at, available_at, processor_id)"
                      + " SELECT 'load', convert_to('k' || (i % 100), 'UTF8'),"
                      + " convert_to(repeat('x', 200), 'UTF8'), :now,"
                      + " CASE WHEN i <= 1000 THEN :later ELSE :now END,"
                      + " CASE WHEN i <= 1000 THEN 'someone' END"
                      + " FROM generate_series(1, :n) AS i")
              .bind("now", Args.timestamp(NOW.minusSeconds(60)))
              .bind("later", Args.timestamp(NOW.plusSeconds(30)))
              .bind("n", BACKLOG)
              .execute();
          h.execute("ANALYZE " + TABLE);
        });
  }

  @AfterAll
  static void dropTheBacklog() {
    if (jdbi == null) {
      return; // no database: the class was skipped
    }
    jdbi.useHandle(h -> h.execute("DROP TABLE " + TABLE + ", " + TABLE + "_dead_letters"));
  }

  @Test
  void theClaimsRowSelectionIsAnIndexScanOnThePrimaryKey() {
    List<String> plan = explain(sql.claimCandidates);
    print("claim candidates (the CTE)", plan);

    String text = String.join("\n", plan);
    assertThat(text).contains("Index Scan using " + TABLE + "_pkey on " + TABLE);
    assertThat(text).doesNotContain("Seq Scan").doesNotContain("Sort");
    assertThat(text).contains("LockRows").contains("Limit");
  }

  @Test
  void theWholeClaimStatementScansNothingSequentially() {
    List<String> plan = explain(sql.claim);
    print("whole claim statement", plan);

    String text = String.join("\n", plan);
    assertThat(text).doesNotContain("Seq Scan").doesNotContain("Sort");
    assertThat(text).contains("Index Scan using " + TABLE + "_pkey");
  }

  private static List<String> explain(String statement) {
    return jdbi.withHandle(
        h ->
            h.createQuery("EXPLAIN " + statement)
                .bind("now", Args.timestamp(NOW))
                .bind("deadline", Args.timestamp(NOW.plusSeconds(30)))
                .bind("processor", "p1")
                .bind("limit", 100)
                .mapTo(String.class)
                .list());
  }

  private static void print(String title, List<String> plan) {
    System.out.println("EXPLAIN " + title + " over " + BACKLOG + " rows:");
    plan.forEach(line -> System.out.println("  " + line));
  }
}
