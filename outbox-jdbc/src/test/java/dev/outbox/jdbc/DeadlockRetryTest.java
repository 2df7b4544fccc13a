package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.OutboxException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Provokes a real InnoDB deadlock between a storage transaction and a heavier foreign transaction,
 * and checks that the storage retries the victim transparently, and counts it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeadlockRetryTest {

  private static final String PROBE = "jdbc_retry_probe";
  private static final String BALLAST = "jdbc_retry_ballast";

  private static final TestDatabase.Kind DB = TestDatabase.Kind.MYSQL;

  @BeforeEach
  void resetRows() {
    TestDatabase.execute(
        DB,
        "CREATE TABLE IF NOT EXISTS " + PROBE + " (id INT PRIMARY KEY, v INT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS " + BALLAST + " (id INT PRIMARY KEY)",
        "DELETE FROM " + PROBE,
        "INSERT INTO " + PROBE + " (id, v) VALUES (1, 0), (2, 0)",
        "DELETE FROM " + BALLAST);
  }

  private static JdbcStorage.Builder storage() {
    return JdbcStorage.builder(TestDatabase.dataSource(DB))
        .dialect(JdbcDialect.mysql())
        .tableName("jdbc_retry");
  }

  private static int execute(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      return st.executeUpdate(sql);
    }
  }

  @Test
  void aDeadlockVictimIsRetriedAndCounted() throws Exception {
    JdbcStorage storage = storage().retryBackoff(Duration.ZERO).build();
    CountDownLatch foreignHoldsRow1 = new CountDownLatch(1);
    CountDownLatch storageHoldsRow2 = new CountDownLatch(1);
    CompletableFuture<Void> foreign =
        CompletableFuture.runAsync(() -> foreignTransaction(foreignHoldsRow1, storageHoldsRow2));
    AtomicInteger attempts = new AtomicInteger();

    int updated =
        storage.inTransaction(
            "update the probe",
            h -> {
              execute(h, "UPDATE " + PROBE + " SET v = v + 1 WHERE id = 2");
              if (attempts.incrementAndGet() == 1) {
                storageHoldsRow2.countDown();
                await(foreignHoldsRow1);
              }
              return execute(h, "UPDATE " + PROBE + " SET v = v + 1 WHERE id = 1");
            });

    foreign.get(30, TimeUnit.SECONDS);
    assertThat(updated).isEqualTo(1);
    assertThat(attempts).as("the first attempt was the deadlock victim").hasValue(2);
    assertThat(storage.retries()).isEqualTo(1);
    long sum = TestDatabase.queryLong(DB, "SELECT SUM(v) FROM " + PROBE);
    assertThat(sum)
        .as("the foreign transaction's and the retried transaction's updates, each once")
        .isEqualTo(4);
  }

  @Test
  void aDeadlockBeyondTheRetryLimitBecomesAnOutboxException() throws Exception {
    JdbcStorage storage = storage().maxRetries(0).build();
    CountDownLatch foreignHoldsRow1 = new CountDownLatch(1);
    CountDownLatch storageHoldsRow2 = new CountDownLatch(1);
    CompletableFuture<Void> foreign =
        CompletableFuture.runAsync(() -> foreignTransaction(foreignHoldsRow1, storageHoldsRow2));

    assertThatThrownBy(
            () ->
                storage.inTransaction(
                    "update the probe",
                    h -> {
                      execute(h, "UPDATE " + PROBE + " SET v = v + 1 WHERE id = 2");
                      storageHoldsRow2.countDown();
                      await(foreignHoldsRow1);
                      return execute(h, "UPDATE " + PROBE + " SET v = v + 1 WHERE id = 1");
                    }))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("update the probe on MySQL/MariaDB table jdbc_retry failed")
        .hasMessageContaining("still a deadlock after 0 retries");

    foreign.get(30, TimeUnit.SECONDS);
    assertThat(storage.retries()).isZero();
  }

  /**
   * Locks row 1, waits until the storage holds row 2, then asks for row 2: a cycle. It first writes
   * many rows so that InnoDB, which rolls back the smaller transaction, picks the storage's.
   */
  private static void foreignTransaction(CountDownLatch holdsRow1, CountDownLatch otherHoldsRow2) {
    try (Connection h = TestDatabase.connect(DB)) {
      h.setAutoCommit(false);
      execute(
          h,
          "INSERT INTO "
              + BALLAST
              + " (id) SELECT seq FROM (SELECT a.i * 100 + b.i AS seq FROM (SELECT 0 i UNION"
              + " ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION"
              + " ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION"
              + " ALL SELECT 9) a, (SELECT 0 i UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL"
              + " SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL"
              + " SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) b) s");
      execute(h, "UPDATE " + PROBE + " SET v = v + 1 WHERE id = 1");
      holdsRow1.countDown();
      await(otherHoldsRow2);
      execute(h, "UPDATE " + PROBE + " SET v = v + 1 WHERE id = 2");
      h.commit();
    } catch (SQLException e) {
      throw new AssertionError("the foreign transaction failed", e);
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new AssertionError("the other transaction did not get its lock in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
