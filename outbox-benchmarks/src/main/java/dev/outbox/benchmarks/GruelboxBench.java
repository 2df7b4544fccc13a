package dev.outbox.benchmarks;

import com.gruelbox.transactionoutbox.Dialect;
import com.gruelbox.transactionoutbox.Instantiator;
import com.gruelbox.transactionoutbox.Persistor;
import com.gruelbox.transactionoutbox.Submitter;
import com.gruelbox.transactionoutbox.ThreadLocalContextTransactionManager;
import com.gruelbox.transactionoutbox.TransactionManager;
import com.gruelbox.transactionoutbox.TransactionOutbox;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * gruelbox transaction-outbox 4.2.268 draining a backlog of the same size on the same database.
 *
 * <p>Preload: one entry is written through gruelbox's own {@code schedule()} API (with a submitter
 * that drops the immediate post-commit attempt), then copied {@code n} times by batched INSERTs
 * with fresh UUIDs and a {@code nextAttemptTime} in the past. Every row therefore holds exactly the
 * serialized invocation gruelbox writes itself, and {@code flush()} treats them as it treats
 * entries whose immediate attempt was lost. Loading 200,000 rows this way takes a few seconds
 * instead of minutes.
 *
 * <p>Drain: one thread calls {@code flush()} (batches of {@code --batch}) until every entry ran;
 * flush hands each entry to an executor with {@code threads} workers, each processing one entry per
 * transaction (lock, invoke, delete), which is gruelbox's design. See {@link #readyToFlush} for
 * when the next flush runs. The invoked method only counts. gruelbox logs two INFO lines per entry;
 * they are silenced (WARN) as any production set-up at this volume would.
 */
final class GruelboxBench {

  /** What gruelbox invokes: an interface, so that it needs no byte-code proxy. */
  public interface Handler {
    /** Receives one message. */
    void handle(String payload);
  }

  /** Counts; a named class because gruelbox finds the method by reflection on it. */
  static final class CountingHandler implements Handler {
    private final LongAdder count;

    CountingHandler(LongAdder count) {
      this.count = count;
    }

    @Override
    public void handle(String payload) {
      count.increment();
    }
  }

  private static final String TABLE = "TXNO_OUTBOX";

  private final SqlDatabase db;
  private final Options o;
  private final String payload;
  private final LongAdder handled = new LongAdder();
  private final Handler handler = new CountingHandler(handled);

  GruelboxBench(SqlDatabase db, Options o, byte[] payloadBytes) {
    this.db = db;
    this.o = o;
    // The invocation is JSON: carry the payload as text of the same length.
    this.payload = new String(Bench.asciiPayload(payloadBytes.length), StandardCharsets.US_ASCII);
  }

  private TransactionOutbox.TransactionOutboxBuilder builder(TransactionManager tm) {
    Dialect dialect = o.db() == Options.Db.POSTGRES ? Dialect.POSTGRESQL_9 : Dialect.MY_SQL_8;
    return TransactionOutbox.builder()
        .transactionManager(tm)
        .persistor(Persistor.forDialect(dialect))
        .instantiator(Instantiator.using(c -> handler))
        // Longer than any drain, so that flush never re-selects an entry already queued.
        .attemptFrequency(Duration.ofMinutes(30))
        .flushBatchSize(o.batch());
  }

  /** Loads {@code n} entries, drains them with {@code threads} workers; returns msgs/s. */
  double drain(int threads, int n) throws Exception {
    ThreadLocalContextTransactionManager tm = TransactionManager.fromDataSource(db.ds);
    TransactionOutbox loader = builder(tm).submitter((entry, local) -> {}).build();
    db.execute("DELETE FROM " + TABLE);
    preload(tm, loader, n);

    ThreadPoolExecutor workers =
        new ThreadPoolExecutor(
            threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>());
    try {
      TransactionOutbox outbox = builder(tm).submitter(Submitter.withExecutor(workers)).build();
      handled.reset();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60 + n / 200);
      long start = System.nanoTime();
      while (handled.sum() < n) {
        if (readyToFlush(workers)) {
          if (!outbox.flush()) {
            Thread.sleep(2); // nothing due: what is left is queued or running
          }
        } else {
          Thread.sleep(1);
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "gruelbox handled only "
                  + handled.sum()
                  + " of "
                  + n
                  + " entries in time (left: "
                  + db.count(TABLE)
                  + ")");
        }
      }
      long took = System.nanoTime() - start;
      waitForEmptyTable(n);
      return n / (took / 1e9);
    } finally {
      workers.shutdownNow();
      workers.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Whether the flush loop may select the next batch. On PostgreSQL flush's locking SELECT locks
   * only the rows it returns, so it runs as soon as the workers' queue holds less than a batch,
   * keeping them busy. On MySQL/MariaDB its index is used for {@code processed} only (gruelbox's
   * migration leaves {@code blocked} a VARCHAR), so once fewer than a batch of entries are due the
   * locking scan runs on through entries already handed to workers and locks them; a worker's
   * {@code SELECT ... FOR UPDATE SKIP LOCKED} then silently skips its entry, which waits for {@code
   * attemptFrequency}. There the next flush waits until the workers are idle.
   */
  private boolean readyToFlush(ThreadPoolExecutor workers) {
    if (o.db() == Options.Db.POSTGRES) {
      return workers.getQueue().size() < o.batch();
    }
    return workers.getQueue().isEmpty() && workers.getActiveCount() == 0;
  }

  private void preload(TransactionManager tm, TransactionOutbox loader, int n) throws Exception {
    tm.inTransaction(() -> loader.schedule(Handler.class).handle(payload));
    String invocation;
    int version;
    String templateId;
    try (Connection c = db.ds.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT id, invocation, version FROM " + TABLE);
        ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        throw new IllegalStateException("gruelbox's schedule() wrote no row");
      }
      templateId = rs.getString(1);
      invocation = rs.getString(2);
      version = rs.getInt(3);
    }
    Timestamp due = Timestamp.from(Instant.now().minusSeconds(60));
    try (Connection c = db.ds.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO "
                  + TABLE
                  + " (id, uniqueRequestId, invocation, lastAttemptTime, nextAttemptTime,"
                  + " attempts, blocked, processed, version) VALUES (?, NULL, ?, NULL, ?, 0, ?,"
                  + " ?, ?)")) {
        for (int i = 1; i <= n; i++) {
          ps.setString(1, UUID.randomUUID().toString());
          ps.setString(2, invocation);
          ps.setTimestamp(3, due);
          ps.setBoolean(4, false);
          ps.setBoolean(5, false);
          ps.setInt(6, version);
          ps.addBatch();
          if (i % 1000 == 0 || i == n) {
            ps.executeBatch();
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + TABLE + " WHERE id = ?")) {
        ps.setString(1, templateId);
        ps.executeUpdate();
      }
      c.commit();
    }
    db.execute(o.db() == Options.Db.POSTGRES ? "ANALYZE " + TABLE : "ANALYZE TABLE " + TABLE);
  }

  private void waitForEmptyTable(int n) throws SQLException, InterruptedException {
    // The counter moves inside the worker's transaction, just before its DELETE commits.
    for (int i = 0; i < 500; i++) {
      if (db.count(TABLE) == 0) {
        if (handled.sum() != n) {
          throw new IllegalStateException(
              "gruelbox invoked " + handled.sum() + " times for " + n + " entries");
        }
        return;
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException(
        "gruelbox left " + db.count(TABLE) + " entries after invoking all " + n);
  }
}
