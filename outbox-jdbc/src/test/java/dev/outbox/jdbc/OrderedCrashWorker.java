package dev.outbox.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.ClaimedEntry;
import dev.outbox.FailedEntry;
import dev.outbox.Ordering;
import dev.outbox.Outbox;
import dev.outbox.OutboxListener;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One processor process of {@link OrderedCrashHarness}: an outbox over the shared table, with the
 * ordering under test, whose publisher is a "broker" that appends every delivery to a table in
 * arrival order. It runs until it is killed. Arguments: database kind (POSTGRES or MYSQL), JDBC
 * URL, table, processor id, ordering, whether the publisher keeps order, batch size.
 *
 * <p>Every connection of the process registers its server-side id in {@code <table>_conns} when it
 * opens, so the harness can kill the processors' connections, and only theirs.
 */
public final class OrderedCrashWorker {

  private OrderedCrashWorker() {}

  /** Messages whose publishing always fails for good: they must end as dead letters. */
  static boolean permanentFailure(UUID messageId) {
    return hash(messageId) % 1000 == 0;
  }

  /**
   * How many times (0, 1 or 2) a message fails retryably before it is delivered: while fewer
   * attempts were charged to it, and at most that often in each process (the outbox charges no
   * attempt for a call that delivered nothing, so the charged count alone could fail it forever).
   */
  static int transientFailures(UUID messageId) {
    int h = hash(messageId);
    return h % 20 == 1 ? 1 + (h / 20) % 2 : 0;
  }

  private static int hash(UUID messageId) {
    return messageId.hashCode() & 0x7fffffff;
  }

  public static void main(String[] args) throws Exception {
    TestDatabase.Kind kind = TestDatabase.Kind.valueOf(args[0]);
    String url = args[1];
    String table = args[2];
    String processorId = args[3];
    Ordering ordering = Ordering.valueOf(args[4]);
    boolean keepsOrder = Boolean.parseBoolean(args[5]);
    int batchSize = Integer.parseInt(args[6]);

    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(
        kind == TestDatabase.Kind.POSTGRES
            ? url + (url.contains("?") ? "&" : "?") + "ApplicationName=" + processorId
            : url);
    config.setMaximumPoolSize(4); // claim, renewal, the broker's record, the listener's marker
    config.setMinimumIdle(1);
    // The harness may kill the very first connection as it registers: start anyway, retry later.
    config.setInitializationFailTimeout(-1);
    config.setConnectionTimeout(5_000);
    config.setConnectionInitSql(
        "INSERT INTO "
            + table
            + "_conns (conn_id, worker) SELECT "
            + (kind == TestDatabase.Kind.POSTGRES ? "pg_backend_pid()" : "CONNECTION_ID()")
            + ", '"
            + processorId
            + "'");
    HikariDataSource pool = new HikariDataSource(config);
    JdbcStorage storage =
        JdbcStorage.builder(pool)
            .dialect(kind.dialect())
            .tableName(table)
            .ordering(ordering)
            .build();
    Broker broker = new Broker(pool, table, processorId, keepsOrder);
    Outbox<Connection> outbox =
        Outbox.builder(storage, broker)
            .processorId(processorId)
            .batchSize(batchSize)
            .claimDuration(Duration.ofSeconds(2))
            .processInterval(Duration.ofMillis(50))
            .maxAttempts(10)
            .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
            .errorBackoff(Duration.ofMillis(50), Duration.ofSeconds(1))
            .publishTimeout(Duration.ofSeconds(10))
            .listener(
                new OutboxListener() {
                  @Override
                  public void onDeadLettered(ClaimedEntry entry, FailedEntry failure, Throwable t) {
                    broker.markDeadLettered(entry);
                  }
                })
            .build();
    outbox.start();
    System.out.println("ready " + processorId + " " + ordering + " keepsOrder=" + keepsOrder);
    System.out.flush();
    Thread.currentThread().join(); // until killed
  }

  /**
   * The broker: a call's delivered entries are appended to {@code <table>_deliveries} in one
   * transaction that first takes a global lock row, so the identity column's order is the order in
   * which deliveries became visible (arrival order) across all processes.
   *
   * <p>The outbox's listener adds a marker when it dead-letters an entry: see {@link
   * #markDeadLettered}.
   *
   * <p>It fails some messages retryably ({@link #transientFailures}, counted per process) and a few
   * for good ({@link #permanentFailure}). Keeping order, it never delivers past a failure: once an
   * entry of a key fails in a call, every later entry of that key in the call fails retryably too.
   * Not keeping order, it delivers a call's entries in a random order (it promised nothing), which
   * is harmless only because the outbox then gives it at most one entry per key per call.
   */
  static final class Broker implements Publisher {
    private final HikariDataSource pool;
    private final String table;
    private final String processorId;
    private final boolean keepsOrder;
    private final ConcurrentHashMap<UUID, Integer> failed = new ConcurrentHashMap<>();

    Broker(HikariDataSource pool, String table, String processorId, boolean keepsOrder) {
      this.pool = pool;
      this.table = table;
      this.processorId = processorId;
      this.keepsOrder = keepsOrder;
    }

    @Override
    public boolean keepsOrder() {
      return keepsOrder;
    }

    @Override
    public void publish(List<ClaimedEntry> entries) throws PublishException {
      PublishException.Builder failures = PublishException.builder();
      List<ClaimedEntry> deliver = new ArrayList<>();
      Set<String> failedKeys = new HashSet<>();
      for (ClaimedEntry e : entries) {
        String key = key(e);
        if (failedKeys.contains(key)) {
          failures.retryable(
              e, new IllegalStateException("an earlier entry of " + key + " failed"));
        } else if (permanentFailure(e.messageId())) {
          failures.permanent(e, new IllegalArgumentException("poison message"));
          failedKeys.add(key);
        } else if (e.attempts() < transientFailures(e.messageId())
            && failed.getOrDefault(e.messageId(), 0) < transientFailures(e.messageId())) {
          failed.merge(e.messageId(), 1, Integer::sum);
          failures.retryable(e, new IllegalStateException("broker busy"));
          failedKeys.add(key);
        } else {
          deliver.add(e);
        }
      }
      if (!keepsOrder) {
        Collections.shuffle(deliver, ThreadLocalRandom.current());
      }
      if (!deliver.isEmpty()) {
        record(deliver, "D");
      }
      failures.throwIfAny();
    }

    /**
     * Appends a dead-letter marker ("X") to the arrival order. The outbox calls its listener before
     * the storage moves the entry to the dead letters, so the marker comes before any later message
     * of the key can be claimed: the consumer check may then count the key's next message as in
     * order. A lost marker would show as a false gap, so it is retried.
     */
    void markDeadLettered(ClaimedEntry entry) {
      for (int attempt = 1; ; attempt++) {
        try {
          record(List.of(entry), "X");
          return;
        } catch (IllegalStateException e) {
          if (attempt == 50) {
            throw e;
          }
          try {
            Thread.sleep(20);
          } catch (InterruptedException i) {
            Thread.currentThread().interrupt();
            throw e;
          }
        }
      }
    }

    private void record(List<ClaimedEntry> deliver, String event) {
      try (Connection c = pool.getConnection()) {
        c.setAutoCommit(false);
        try (Statement lock = c.createStatement();
            PreparedStatement ps =
                c.prepareStatement(
                    "INSERT INTO "
                        + table
                        + "_deliveries (message_id, k, processor, event) VALUES (?, ?, ?, ?)")) {
          lock.executeUpdate("UPDATE " + table + "_broker SET n = n + 1 WHERE id = 1");
          for (ClaimedEntry e : deliver) {
            ps.setString(1, e.messageId().toString());
            ps.setString(2, key(e));
            ps.setString(3, processorId);
            ps.setString(4, event);
            ps.addBatch();
          }
          ps.executeBatch();
          c.commit();
        } catch (SQLException | RuntimeException e) {
          try {
            c.rollback();
          } catch (SQLException ignored) {
            // the connection is gone (killed): the transaction is rolled back with it
          }
          throw e;
        } // the pool puts auto-commit back when the connection returns
      } catch (SQLException e) {
        // Nothing of this call counts as delivered (if the commit went through after all, the
        // entries come again: duplicates, which the harness counts).
        throw new IllegalStateException("the broker could not record deliveries", e);
      }
    }

    private static String key(ClaimedEntry e) {
      return new String(e.message().key(), StandardCharsets.UTF_8);
    }
  }
}
