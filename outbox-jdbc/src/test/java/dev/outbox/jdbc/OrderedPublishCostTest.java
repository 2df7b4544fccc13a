package dev.outbox.jdbc;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.outbox.Message;
import dev.outbox.NewEntry;
import dev.outbox.Ordering;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * What the per-key lock costs a publish: one thread, one keyed message per transaction, unordered
 * and ordered, alternating rounds, on both databases; prints the median time per transaction. A
 * measurement, not a check: it runs only with {@code -DorderedPublishCost=true}.
 */
class OrderedPublishCostTest {

  private static final int PER_ROUND = 500;
  private static final int ROUNDS = 5;

  @Test
  void postgres() throws SQLException {
    measure(TestDatabase.Kind.POSTGRES);
  }

  @Test
  void mysql() throws SQLException {
    measure(TestDatabase.Kind.MYSQL);
  }

  private static void measure(TestDatabase.Kind kind) throws SQLException {
    assumeTrue(
        Boolean.getBoolean("orderedPublishCost"), "a measurement: -DorderedPublishCost=true");
    JdbcStorage unordered = TestDatabase.freshStorage(kind, TestDatabase.PREFIX + "cost_none");
    JdbcStorage ordered =
        TestDatabase.freshStorage(kind, TestDatabase.PREFIX + "cost_ord", Ordering.BY_KEY);
    DataSource ds = TestDatabase.dataSource(kind);
    long[] none = new long[ROUNDS];
    long[] byKey = new long[ROUNDS];
    round(ds, unordered); // warm-up
    round(ds, ordered);
    for (int r = 0; r < ROUNDS; r++) {
      none[r] = round(ds, unordered);
      byKey[r] = round(ds, ordered);
    }
    java.util.Arrays.sort(none);
    java.util.Arrays.sort(byKey);
    System.out.printf(
        "%s publish of 1 keyed message per transaction, median of %d rounds of %d:"
            + " unordered %.1f us, BY_KEY %.1f us (+%.1f us)%n",
        kind,
        ROUNDS,
        PER_ROUND,
        none[ROUNDS / 2] / 1000.0,
        byKey[ROUNDS / 2] / 1000.0,
        (byKey[ROUNDS / 2] - none[ROUNDS / 2]) / 1000.0);
    TestDatabase.execute(
        kind,
        "DROP TABLE " + TestDatabase.PREFIX + "cost_none",
        "DROP TABLE " + TestDatabase.PREFIX + "cost_none_dead_letters",
        "DROP TABLE " + TestDatabase.PREFIX + "cost_ord",
        "DROP TABLE " + TestDatabase.PREFIX + "cost_ord_dead_letters");
  }

  /** Nanoseconds per transaction. */
  private static long round(DataSource ds, JdbcStorage storage) throws SQLException {
    long start = System.nanoTime();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      for (int i = 0; i < PER_ROUND; i++) {
        Message m =
            Message.builder().namespace("orders").key("order-" + (i % 50)).payload("{}").build();
        storage.publish(c, List.of(new NewEntry(UUID.randomUUID(), m, Instant.now())));
        c.commit();
      }
      c.setAutoCommit(true);
    }
    return (System.nanoTime() - start) / PER_ROUND;
  }
}
