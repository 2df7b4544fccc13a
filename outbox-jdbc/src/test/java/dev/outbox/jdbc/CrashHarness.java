package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.NewEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Processor processes die with SIGKILL at random moments while they drain a shared outbox; new ones
 * take their place. At the end every entry was delivered at least once, none is left, and the
 * duplicates are counted and printed. One harness for every database (see the subclasses). Size
 * with {@code -Doutbox.crash.entries=50000} (default 10,000), {@code -Doutbox.crash.kills} (default
 * 6) and {@code -Doutbox.crash.workers} (default 3); {@code -Doutbox.crash.seed} repeats a run.
 */
abstract class CrashHarness {

  private final TestDatabase.Kind kind;
  private final String table;
  private final LeaseMode leaseMode;

  CrashHarness(TestDatabase.Kind kind) {
    this(kind, LeaseMode.ROW);
  }

  CrashHarness(TestDatabase.Kind kind, LeaseMode leaseMode) {
    this.kind = kind;
    this.leaseMode = leaseMode;
    this.table =
        TestDatabase.PREFIX
            + (leaseMode == LeaseMode.ROW
                ? "crash"
                : "crash_" + leaseMode.name().toLowerCase(java.util.Locale.ROOT));
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void killedProcessorsLoseNothing() throws Exception {
    int entries = Integer.getInteger("outbox.crash.entries", 10_000);
    int kills = Integer.getInteger("outbox.crash.kills", 6);
    int workers = Integer.getInteger("outbox.crash.workers", 3);
    long seed = Long.getLong("outbox.crash.seed", System.nanoTime());
    JdbcStorage storage = TestDatabase.freshStorage(kind, table);
    TestDatabase.execute(
        kind,
        "DROP TABLE IF EXISTS " + table + "_deliveries",
        "CREATE TABLE " + table + "_deliveries (entry_id BIGINT NOT NULL, processor VARCHAR(64))");
    for (int written = 0; written < entries; written += 1000) {
      List<NewEntry> batch = new ArrayList<>();
      for (int i = written; i < Math.min(entries, written + 1000); i++) {
        Message m =
            Message.builder().namespace("crash").key("k" + (i % 50)).payload("entry " + i).build();
        batch.add(new NewEntry(UUID.randomUUID(), m, Instant.now()));
      }
      try (Connection c = TestDatabase.connect(kind)) {
        c.setAutoCommit(false);
        storage.publish(c, batch);
        c.commit();
      }
    }
    Set<Long> written = ids("SELECT id FROM " + table);

    Path logs = Files.createDirectories(Path.of("target", "crash-workers-" + kind));
    Random random = new Random(seed);
    List<Worker> running = new ArrayList<>();
    int started = 0;
    for (; started < workers; started++) {
      running.add(startWorker("worker-" + started, logs));
    }
    int killed = 0;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(8);
    try {
      while (killed < kills && remaining() > 0) {
        // A random moment: the workers are mid-batch most of the time.
        Thread.sleep(100 + random.nextInt(400));
        List<Worker> ready = running.stream().filter(Worker::processing).toList();
        if (ready.isEmpty()) {
          continue; // only kill processors that are at work, not JVMs still starting
        }
        Worker victim = ready.get(random.nextInt(ready.size()));
        running.remove(victim);
        victim.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL: no hooks
        killed++;
        running.add(startWorker("worker-" + started++, logs));
      }
      while (remaining() > 0) {
        assertThat(System.nanoTime()).as("outbox drained in time").isLessThan(deadline);
        for (Worker w : running) {
          assertThat(w.process().isAlive()).as("a worker died by itself; see " + logs).isTrue();
        }
        Thread.sleep(100); // bounded poll of the backlog
      }
    } finally {
      for (Worker w : running) {
        w.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }

    long deliveries = TestDatabase.queryLong(kind, "SELECT COUNT(*) FROM " + table + "_deliveries");
    Set<Long> delivered = ids("SELECT DISTINCT entry_id FROM " + table + "_deliveries");
    Set<Long> missing = new HashSet<>(written);
    missing.removeAll(delivered);
    System.out.printf(
        "crash test on %s (lease mode %s): entries=%d workers=%d killed=%d deliveries=%d distinct=%d"
            + " duplicates=%d missing=%d seed=%d%n",
        kind.dialect().name(),
        leaseMode,
        entries,
        workers,
        killed,
        deliveries,
        delivered.size(),
        deliveries - delivered.size(),
        missing.size(),
        seed);
    // Kills stop when the backlog is gone; on a fast machine that may come before all of them.
    assertThat(killed).as("the test really killed working processors").isPositive();
    assertThat(missing).as("entries never delivered").isEmpty();
    assertThat(delivered).hasSize(entries);
    assertThat(remaining()).isZero();
    assertThat(storage.stats(Instant.now()).deadLetters()).isZero();
  }

  private long remaining() {
    return TestDatabase.queryLong(kind, "SELECT COUNT(*) FROM " + table);
  }

  private Set<Long> ids(String query) throws SQLException {
    Set<Long> ids = new HashSet<>();
    try (Connection c = TestDatabase.connect(kind);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(query)) {
      while (rs.next()) {
        ids.add(rs.getLong(1));
      }
    }
    return ids;
  }

  /** A worker process and its log, which says "ready" once its outbox runs. */
  private record Worker(Process process, Path log) {
    boolean processing() {
      try {
        return Files.exists(log) && Files.readString(log).contains("ready");
      } catch (java.io.IOException e) {
        return false;
      }
    }
  }

  private Worker startWorker(String id, Path logs) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(
            java,
            "-Xmx128m",
            "-cp",
            System.getProperty("java.class.path"),
            CrashWorker.class.getName(),
            kind.name(),
            TestDatabase.url(kind),
            table,
            id,
            leaseMode.name());
    Path log = logs.resolve(id + ".log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    return new Worker(pb.start(), log);
  }
}
