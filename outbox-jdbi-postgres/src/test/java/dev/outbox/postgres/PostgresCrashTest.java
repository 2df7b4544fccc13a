package dev.outbox.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Processor processes die with SIGKILL at random moments while they drain a shared outbox; new ones
 * take their place. At the end every entry was delivered at least once, none is left, and the
 * duplicates are counted. Size with {@code -Doutbox.crash.entries=50000} (default 10,000 for CI),
 * {@code -Doutbox.crash.kills} (default 6) and {@code -Doutbox.crash.workers} (default 3).
 */
class PostgresCrashTest {

  private static final String TABLE = "outbox_crash";

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void killedProcessorsLoseNothing() throws Exception {
    int entries = Integer.getInteger("outbox.crash.entries", 10_000);
    int kills = Integer.getInteger("outbox.crash.kills", 6);
    int workers = Integer.getInteger("outbox.crash.workers", 3);
    String url = TestDatabase.get().url();
    Jdbi jdbi = Jdbi.create(url);
    PostgresStorage storage = TestDatabase.freshStorage(jdbi, TABLE);
    jdbi.useHandle(
        h -> {
          h.execute("DROP TABLE IF EXISTS " + TABLE + "_deliveries");
          h.execute(
              "CREATE TABLE "
                  + TABLE
                  + "_deliveries (entry_id bigint NOT NULL, processor text NOT NULL)");
        });
    for (int written = 0; written < entries; written += 1000) {
      int from = written;
      int n = Math.min(1000, entries - written);
      jdbi.useTransaction(
          h -> {
            List<Message> batch = new ArrayList<>(n);
            for (int i = from; i < from + n; i++) {
              batch.add(
                  Message.builder()
                      .namespace("crash")
                      .key("k" + (i % 50))
                      .payload("entry " + i)
                      .build());
            }
            storage.publish(h, java.time.Instant.now(), batch);
          });
    }
    long[] range =
        jdbi.withHandle(
            h ->
                h.createQuery("SELECT min(id), max(id) FROM " + TABLE)
                    .map((rs, ctx) -> new long[] {rs.getLong(1), rs.getLong(2)})
                    .one());

    Path logs = Files.createDirectories(Path.of("target", "crash-workers"));
    Random random = new Random(Long.getLong("outbox.crash.seed", System.nanoTime()));
    List<Worker> running = new ArrayList<>();
    int started = 0;
    for (; started < workers; started++) {
      running.add(startWorker(url, "worker-" + started, logs));
    }
    int killed = 0;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(8);
    try {
      while (killed < kills && remaining(jdbi) > 0) {
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
        running.add(startWorker(url, "worker-" + started++, logs));
      }
      while (remaining(jdbi) > 0) {
        assertThat(System.nanoTime()).as("outbox drained in time").isLessThan(deadline);
        for (Worker w : running) {
          assertThat(w.process().isAlive())
              .as("a worker died by itself; see target/crash-workers")
              .isTrue();
        }
        Thread.sleep(100); // bounded poll of the backlog
      }
    } finally {
      for (Worker w : running) {
        w.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }

    long delivered =
        jdbi.withHandle(
            h ->
                h.createQuery("SELECT count(DISTINCT entry_id) FROM " + TABLE + "_deliveries")
                    .mapTo(Long.class)
                    .one());
    long deliveries =
        jdbi.withHandle(
            h ->
                h.createQuery("SELECT count(*) FROM " + TABLE + "_deliveries")
                    .mapTo(Long.class)
                    .one());
    long missing =
        jdbi.withHandle(
            h ->
                h.createQuery(
                        "SELECT count(*) FROM generate_series(:lo, :hi) g WHERE NOT EXISTS "
                            + "(SELECT 1 FROM "
                            + TABLE
                            + "_deliveries d WHERE d.entry_id = g)")
                    .bind("lo", range[0])
                    .bind("hi", range[1])
                    .mapTo(Long.class)
                    .one());
    System.out.printf(
        "crash test: entries=%d workers=%d killed=%d deliveries=%d distinct=%d duplicates=%d missing=%d%n",
        entries, workers, killed, deliveries, delivered, deliveries - delivered, missing);
    // Kills stop when the backlog is gone; on a fast machine that may come before all of them.
    assertThat(killed).as("the test really killed working processors").isPositive();
    assertThat(missing).as("entries never delivered").isZero();
    assertThat(delivered).isEqualTo(entries);
    assertThat(remaining(jdbi)).isZero();
    assertThat(storage.stats(java.time.Instant.now()).deadLetters()).isZero();
  }

  private static long remaining(Jdbi jdbi) {
    return jdbi.withHandle(
        h -> h.createQuery("SELECT count(*) FROM " + TABLE).mapTo(Long.class).one());
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

  private static Worker startWorker(String url, String id, Path logs) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(
            java,
            "-Xmx128m",
            "-cp",
            System.getProperty("java.class.path"),
            CrashWorker.class.getName(),
            url,
            TABLE,
            id);
    Path log = logs.resolve(id + ".log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    return new Worker(pb.start(), log);
  }
}
