package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.Message;
import dev.outbox.NewEntry;
import dev.outbox.Ordering;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Per-key order under crashes. Producer threads write messages over many keys while processor
 * processes ({@link OrderedCrashWorker}) drain the shared outbox; processors die by SIGKILL and
 * their database connections are killed at random moments; the publisher fails some messages
 * retryably and a few for good. At the end a consumer check reads the deliveries in arrival order
 * and counts, per key, first deliveries that come after a later message of the key (order
 * violations), messages neither delivered nor dead-lettered (lost) and duplicates.
 *
 * <p>The producers take each message's per-key sequence number in the very transaction that writes
 * it, <em>after</em> the storage's {@code publish} (an {@code UPDATE} of the key's row, held to the
 * commit), and record it in {@code <table>_written}: so sequence order is commit order, and a
 * storage that drew ids out of commit order would show as violations too.
 *
 * <p>Ordered ({@link Ordering#BY_KEY}) the run must have no violation and lose nothing; the same
 * run unordered ({@link Ordering#NONE}) must lose nothing and prints its violations, to show the
 * difference. One worker in four runs a publisher that does not keep order (one entry per key per
 * call; it delivers a call's entries in random order).
 *
 * <p>Sized by {@code -Doutbox.ocrash.messages} (default 50,000), {@code .keys} (64), {@code
 * .workers} (4 processor processes at any time), {@code .producers} (4 threads), {@code .batch}
 * (claim batch size, 100), {@code .rate} (messages per second the producers write together, 1,000;
 * 0: as fast as they can), {@code .backlog} (the producers pause while the outbox holds more,
 * 1,000; 0: never); {@code -Doutbox.ocrash.seed} repeats the random choices of the harness.
 *
 * <p>The backlog bound keeps the run about order under crashes, not about the drain rate of a big
 * backlog: an ordered claim looks for each key's oldest entry, and with fewer keys than a batch it
 * walks the whole backlog each time (measured: 50,000 unbounded took 290 s to drain ordered on
 * PostgreSQL, 52 s unordered; see the ordering branch's plan test for that case).
 */
abstract class OrderedCrashHarness {

  private final TestDatabase.Kind kind;
  private final String table;

  OrderedCrashHarness(TestDatabase.Kind kind) {
    this.kind = kind;
    this.table = TestDatabase.PREFIX + "ocrash";
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void byKeyKeepsEveryKeyInOrderThroughCrashes() throws Exception {
    Report r = run(Ordering.BY_KEY);
    assertThat(r.lost()).as("messages neither delivered nor dead-lettered").isZero();
    assertThat(r.phantoms()).as("deliveries of messages never written").isZero();
    assertThat(r.violations()).as("per-key order violations").isZero();
    assertThat(r.gaps()).as("deliveries past an earlier message not yet settled").isZero();
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void unorderedLosesNothingAndShowsItsViolations() throws Exception {
    Report r = run(Ordering.NONE);
    assertThat(r.lost()).as("messages neither delivered nor dead-lettered").isZero();
    assertThat(r.phantoms()).as("deliveries of messages never written").isZero();
  }

  /** What a producer wrote: the message's key and its sequence number within the key. */
  record Written(String key, long seq) {}

  /** One delivery, or (deadLettered) one dead-letter marker, as the broker recorded it. */
  record Delivery(UUID messageId, String key, boolean deadLettered) {
    Delivery(UUID messageId, String key) {
      this(messageId, key, false);
    }
  }

  /** The consumer's findings. */
  record Report(
      int written,
      int deliveries,
      int delivered,
      int duplicates,
      int deadLettered,
      int deliveredAndDead,
      int violations,
      int violatingKeys,
      int gaps,
      int lost,
      int phantoms,
      String firstViolation) {}

  /**
   * The consumer check: {@code deliveries} in arrival order. For each key it keeps the highest
   * sequence number first-delivered so far; a first delivery below it is a violation (a later
   * message of the key was delivered before it). A gap is the stricter check of the guarantee: a
   * first delivery that came while an earlier message of its key was neither delivered nor marked
   * dead-lettered yet. Lost: written, but neither delivered nor dead-lettered. Phantom: delivered
   * but never written (or under another key).
   */
  static Report check(
      Map<UUID, Written> written, List<Delivery> deliveries, Set<UUID> deadLettered) {
    Set<UUID> seen = new HashSet<>();
    Map<String, Long> highest = new HashMap<>();
    Set<String> violatingKeys = new TreeSet<>();
    Set<UUID> settled = new HashSet<>(); // delivered or marked dead-lettered
    Map<String, Set<Long>> settledSeqs = new HashMap<>();
    Map<String, Long> prefix = new HashMap<>(); // every seq up to it is settled
    int violations = 0;
    int gaps = 0;
    int phantoms = 0;
    String first = null;
    for (Delivery d : deliveries) {
      Written w = written.get(d.messageId());
      if (settled.add(d.messageId()) && w != null && w.key().equals(d.key())) {
        long done = prefix.getOrDefault(w.key(), 0L);
        if (!d.deadLettered() && w.seq() > done + 1) {
          gaps++;
        }
        Set<Long> seqs = settledSeqs.computeIfAbsent(w.key(), k -> new HashSet<>());
        seqs.add(w.seq());
        while (seqs.remove(done + 1)) {
          done++;
        }
        prefix.put(w.key(), done);
      }
      if (d.deadLettered() || !seen.add(d.messageId())) {
        continue; // a marker, or a duplicate: dropped by the consumer
      }
      if (w == null || !w.key().equals(d.key())) {
        phantoms++;
        continue;
      }
      long max = highest.getOrDefault(w.key(), 0L);
      if (w.seq() < max) {
        violations++;
        violatingKeys.add(w.key());
        if (first == null) {
          first = w.key() + " #" + w.seq() + " after #" + max;
        }
      } else {
        highest.put(w.key(), w.seq());
      }
    }
    int lost = 0;
    for (UUID id : written.keySet()) {
      if (!seen.contains(id) && !deadLettered.contains(id)) {
        lost++;
      }
    }
    int deliveredAndDead = 0;
    for (UUID id : deadLettered) {
      if (seen.contains(id)) {
        deliveredAndDead++;
      }
    }
    int calls = (int) deliveries.stream().filter(d -> !d.deadLettered()).count();
    return new Report(
        written.size(),
        calls,
        seen.size(),
        calls - seen.size(),
        deadLettered.size(),
        deliveredAndDead,
        violations,
        violatingKeys.size(),
        gaps,
        lost,
        phantoms,
        first);
  }

  private Report run(Ordering ordering) throws Exception {
    int messages = Integer.getInteger("outbox.ocrash.messages", 50_000);
    int keys = Integer.getInteger("outbox.ocrash.keys", 64);
    int workers = Integer.getInteger("outbox.ocrash.workers", 4);
    int producers = Integer.getInteger("outbox.ocrash.producers", 4);
    int batch = Integer.getInteger("outbox.ocrash.batch", 100);
    int rate = Integer.getInteger("outbox.ocrash.rate", 2000);
    long maxBacklog = Integer.getInteger("outbox.ocrash.backlog", 1000);
    long seed = Long.getLong("outbox.ocrash.seed", System.nanoTime());
    Random random = new Random(seed);

    JdbcStorage storage = createTables(ordering, keys);
    Path logs = Path.of("target", "ocrash-workers-" + kind + "-" + ordering.name().toLowerCase());
    if (Files.isDirectory(logs)) {
      try (var old = Files.list(logs)) {
        for (Path f : old.toList()) {
          Files.delete(f); // the last run's logs
        }
      }
    }
    Files.createDirectories(logs);
    long start = System.nanoTime();
    List<Worker> running = new ArrayList<>();
    int started = 0;
    int processKills = 0;
    int connectionKills = 0;
    AtomicInteger producerRetries = new AtomicInteger();
    AtomicLong backlog = new AtomicLong();
    ExecutorService writers = Executors.newFixedThreadPool(producers);
    long drainedAt;
    long writtenAt = 0;
    try (HikariDataSource producerPool = TestDatabase.pool(kind, false, producers)) {
      for (; started < workers; started++) {
        running.add(startWorker(started, ordering, batch, logs));
      }
      List<Future<?>> writing = new ArrayList<>();
      for (int p = 0; p < producers; p++) {
        int share = messages / producers + (p < messages % producers ? 1 : 0);
        long producerSeed = random.nextLong();
        int producer = p;
        writing.add(
            writers.submit(
                () -> {
                  produce(
                      storage,
                      producerPool,
                      producer,
                      share,
                      keys,
                      new Random(producerSeed),
                      producerRetries,
                      backlog,
                      maxBacklog,
                      (double) rate / producers);
                  return null;
                }));
      }
      long deadline = start + TimeUnit.MINUTES.toNanos(8);
      long nextProcessKill = System.nanoTime() + millis(2000 + random.nextInt(3000));
      long nextConnectionKill = System.nanoTime() + millis(200 + random.nextInt(600));
      while (true) {
        Thread.sleep(50);
        boolean written = writing.stream().allMatch(Future::isDone);
        if (written && writtenAt == 0) {
          writtenAt = System.nanoTime();
        }
        for (Future<?> f : writing) {
          if (f.isDone()) {
            f.get(); // a producer's failure fails the test
          }
        }
        backlog.set(remaining());
        if (written && backlog.get() == 0) {
          break;
        }
        if (System.nanoTime() > deadline) {
          break; // reported below, after the figures of what was delivered so far
        }
        for (Worker w : running) {
          assertThat(w.process().isAlive()).as("a worker died by itself; see " + w.log()).isTrue();
        }
        long now = System.nanoTime();
        if (now >= nextConnectionKill) {
          connectionKills += killOneConnection(random) ? 1 : 0;
          nextConnectionKill = now + millis(200 + random.nextInt(600));
        }
        if (now >= nextProcessKill) {
          List<Worker> ready = running.stream().filter(Worker::processing).toList();
          if (!ready.isEmpty()) {
            Worker victim = ready.get(random.nextInt(ready.size()));
            running.remove(victim);
            victim.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL
            processKills++;
            running.add(startWorker(started++, ordering, batch, logs));
          }
          nextProcessKill = now + millis(2000 + random.nextInt(3000));
        }
      }
      drainedAt = System.nanoTime();
    } finally {
      writers.shutdownNow();
      for (Worker w : running) {
        w.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }

    Map<UUID, Written> written = written();
    Report r = check(written, deliveries(), deadLettered());
    long poison = written.keySet().stream().filter(OrderedCrashWorker::permanentFailure).count();
    System.out.printf(
        "ordered crash test on %s, ordering %s: written=%d keys=%d delivered=%d deliveries=%d"
            + " duplicates=%d dead-lettered=%d (poison: %d, also delivered: %d) violations=%d"
            + " (keys: %d, first: %s) gaps=%d lost=%d (still in the outbox: %d)"
            + " phantoms=%d | processes=%d (at once: %d)"
            + " kill-9=%d killed-connections=%d producer-retries=%d written-in=%.1fs drained-in=%.1fs"
            + " seed=%d%n",
        kind.dialect().name(),
        ordering,
        r.written(),
        keys,
        r.delivered(),
        r.deliveries(),
        r.duplicates(),
        r.deadLettered(),
        poison,
        r.deliveredAndDead(),
        r.violations(),
        r.violatingKeys(),
        r.firstViolation(),
        r.gaps(),
        r.lost(),
        backlog.get(),
        r.phantoms(),
        started,
        workers,
        processKills,
        connectionKills,
        producerRetries.get(),
        (writtenAt - start) / 1e9,
        (drainedAt - start) / 1e9,
        seed);
    assertThat(backlog.get()).as("entries left: the outbox was not drained in time").isZero();
    assertThat(r.written()).isEqualTo(messages);
    assertThat(processKills).as("processors killed mid-drain").isPositive();
    assertThat(connectionKills).as("processor connections killed mid-drain").isPositive();
    assertThat(r.deadLettered()).as("the permanent failures became dead letters").isPositive();
    return r;
  }

  private static long millis(long ms) {
    return TimeUnit.MILLISECONDS.toNanos(ms);
  }

  // ---------------------------------------------------------------- the producers

  /**
   * Writes {@code count} messages in transactions of a few keys (ascending, so writers never wait
   * on each other in a cycle) with a few messages each: per key the storage's publish, then the
   * key's sequence numbers taken by an update of its row, then the record of what was written.
   */
  private void produce(
      JdbcStorage storage,
      HikariDataSource pool,
      int producer,
      int count,
      int keys,
      Random random,
      AtomicInteger retries,
      AtomicLong backlog,
      long maxBacklog,
      double perSecond)
      throws Exception {
    String seqSql =
        kind == TestDatabase.Kind.POSTGRES
            ? "UPDATE " + table + "_seqs SET seq = seq + ? WHERE k = ? RETURNING seq"
            : "UPDATE " + table + "_seqs SET seq = seq + ? WHERE k = ?";
    String readSql = "SELECT seq FROM " + table + "_seqs WHERE k = ?";
    String writtenSql = "INSERT INTO " + table + "_written (message_id, k, seq) VALUES (?, ?, ?)";
    int done = 0;
    long begin = System.nanoTime();
    while (done < count) {
      while (maxBacklog > 0 && backlog.get() > maxBacklog) {
        Thread.sleep(20); // the processors are behind: let them catch up
        begin += TimeUnit.MILLISECONDS.toNanos(20);
      }
      if (perSecond > 0) {
        // Paced: the backlog stays near what the processors keep up with, so the kills and the
        // failures meet a drain that goes on while the producers write, not a bulk load.
        long due = begin + (long) (done * 1e9 / perSecond);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
      }
      // A few distinct keys, half of the picks among one key in eight (hot keys: long runs).
      TreeSet<String> picked = new TreeSet<>();
      int width = 1 + random.nextInt(4);
      while (picked.size() < width) {
        int k = random.nextBoolean() ? random.nextInt(Math.max(1, keys / 8)) : random.nextInt(keys);
        picked.add(keyName(k));
      }
      Map<String, Integer> sizes = new HashMap<>();
      int txnSize = 0;
      for (String k : picked) {
        int n = Math.min(1 + random.nextInt(5), count - done - txnSize);
        if (n > 0) {
          sizes.put(k, n);
          txnSize += n;
        }
      }
      for (int attempt = 1; ; attempt++) {
        try (Connection c = pool.getConnection()) {
          try (PreparedStatement seq = c.prepareStatement(seqSql);
              PreparedStatement read = c.prepareStatement(readSql);
              PreparedStatement record = c.prepareStatement(writtenSql)) {
            for (String k : picked) {
              Integer n = sizes.get(k);
              if (n == null) {
                continue;
              }
              List<NewEntry> entries = new ArrayList<>(n);
              for (int i = 0; i < n; i++) {
                Message m =
                    Message.builder()
                        .namespace("crash")
                        .key(k)
                        .payload(k + " from producer " + producer)
                        .build();
                entries.add(new NewEntry(UUID.randomUUID(), m, Instant.now()));
              }
              storage.publish(c, entries);
              seq.setInt(1, n);
              seq.setString(2, k);
              long last;
              if (kind == TestDatabase.Kind.POSTGRES) {
                try (ResultSet rs = seq.executeQuery()) {
                  rs.next();
                  last = rs.getLong(1);
                }
              } else {
                seq.executeUpdate();
                read.setString(1, k);
                try (ResultSet rs = read.executeQuery()) {
                  rs.next();
                  last = rs.getLong(1);
                }
              }
              for (int i = 0; i < n; i++) {
                record.setString(1, entries.get(i).messageId().toString());
                record.setString(2, k);
                record.setLong(3, last - n + 1 + i);
                record.addBatch();
              }
            }
            record.executeBatch();
            c.commit();
            break;
          } catch (SQLException | RuntimeException e) {
            c.rollback();
            retries.incrementAndGet();
            if (attempt >= 20) {
              throw e;
            }
          }
        }
      }
      done += txnSize;
    }
  }

  private static String keyName(int k) {
    return String.format("k%03d", k);
  }

  // ---------------------------------------------------------------- the database

  private JdbcStorage createTables(Ordering ordering, int keys) {
    boolean pg = kind == TestDatabase.Kind.POSTGRES;
    TestDatabase.execute(
        kind,
        "DROP TABLE IF EXISTS " + table + "_dead_letters",
        "DROP TABLE IF EXISTS " + table,
        "DROP TABLE IF EXISTS " + table + "_seqs",
        "DROP TABLE IF EXISTS " + table + "_written",
        "DROP TABLE IF EXISTS " + table + "_deliveries",
        "DROP TABLE IF EXISTS " + table + "_broker",
        "DROP TABLE IF EXISTS " + table + "_conns",
        "CREATE TABLE " + table + "_seqs (k VARCHAR(16) PRIMARY KEY, seq BIGINT NOT NULL)",
        "CREATE TABLE "
            + table
            + "_written (message_id VARCHAR(36) PRIMARY KEY, k VARCHAR(16) NOT NULL,"
            + " seq BIGINT NOT NULL)",
        "CREATE TABLE "
            + table
            + "_deliveries (arrival BIGINT "
            + (pg ? "GENERATED ALWAYS AS IDENTITY" : "AUTO_INCREMENT")
            + " PRIMARY KEY, message_id VARCHAR(36) NOT NULL, k VARCHAR(16) NOT NULL,"
            + " processor VARCHAR(64) NOT NULL, event CHAR(1) NOT NULL, delivered_at "
            + (pg ? "TIMESTAMPTZ DEFAULT clock_timestamp()" : "TIMESTAMP(6) DEFAULT NOW(6)")
            + ")",
        "CREATE TABLE " + table + "_broker (id INT PRIMARY KEY, n BIGINT NOT NULL)",
        "INSERT INTO " + table + "_broker (id, n) VALUES (1, 0)",
        "CREATE TABLE " + table + "_conns (conn_id BIGINT NOT NULL, worker VARCHAR(64) NOT NULL)");
    StringBuilder seqs = new StringBuilder("INSERT INTO " + table + "_seqs (k, seq) VALUES ");
    for (int k = 0; k < keys; k++) {
      seqs.append(k == 0 ? "" : ", ").append("('").append(keyName(k)).append("', 0)");
    }
    TestDatabase.execute(kind, seqs.toString());
    JdbcStorage storage =
        JdbcStorage.builder(TestDatabase.dataSource(kind))
            .dialect(kind.dialect())
            .tableName(table)
            .ordering(ordering)
            .build();
    storage.createSchema();
    return storage;
  }

  private long remaining() {
    // The shared pool, not a new connection per poll: the server's connections are shared too.
    try (Connection c = TestDatabase.dataSource(kind).getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new AssertionError("could not count the backlog on " + kind + ": " + e, e);
    }
  }

  /** Kills one live connection of a processor, if there is one; whether it did. */
  private boolean killOneConnection(Random random) throws SQLException {
    boolean pg = kind == TestDatabase.Kind.POSTGRES;
    String live =
        pg
            ? "SELECT a.pid FROM pg_stat_activity a JOIN "
                + table
                + "_conns c ON c.conn_id = a.pid AND a.application_name = c.worker"
                + " WHERE a.datname = current_database()"
            : "SELECT p.id FROM information_schema.processlist p JOIN "
                + table
                + "_conns c ON c.conn_id = p.id WHERE p.db = DATABASE()";
    List<Long> ids = new ArrayList<>();
    try (Connection c = TestDatabase.dataSource(kind).getConnection();
        Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery(live)) {
        while (rs.next()) {
          ids.add(rs.getLong(1));
        }
      }
      if (ids.isEmpty()) {
        return false;
      }
      long victim = ids.get(random.nextInt(ids.size()));
      if (pg) {
        try (ResultSet rs = st.executeQuery("SELECT pg_terminate_backend(" + victim + ")")) {
          return rs.next() && rs.getBoolean(1);
        }
      }
      try {
        st.execute("KILL CONNECTION " + victim);
        return true;
      } catch (SQLException gone) {
        return false; // it closed in the meantime
      }
    }
  }

  private Map<UUID, Written> written() throws SQLException {
    Map<UUID, Written> written = new HashMap<>();
    try (Connection c = TestDatabase.connect(kind);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT message_id, k, seq FROM " + table + "_written")) {
      while (rs.next()) {
        written.put(UUID.fromString(rs.getString(1)), new Written(rs.getString(2), rs.getLong(3)));
      }
    }
    return written;
  }

  private List<Delivery> deliveries() throws SQLException {
    List<Delivery> deliveries = new ArrayList<>();
    try (Connection c = TestDatabase.connect(kind);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT message_id, k, event FROM " + table + "_deliveries ORDER BY arrival")) {
      while (rs.next()) {
        deliveries.add(
            new Delivery(
                UUID.fromString(rs.getString(1)), rs.getString(2), "X".equals(rs.getString(3))));
      }
    }
    return deliveries;
  }

  private Set<UUID> deadLettered() throws SQLException {
    Set<UUID> ids = new HashSet<>();
    try (Connection c = TestDatabase.connect(kind);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT message_id FROM " + table + "_dead_letters")) {
      while (rs.next()) {
        if (kind == TestDatabase.Kind.POSTGRES) {
          ids.add(UUID.fromString(rs.getString(1)));
        } else {
          ByteBuffer b = ByteBuffer.wrap(rs.getBytes(1));
          ids.add(new UUID(b.getLong(), b.getLong()));
        }
      }
    }
    return ids;
  }

  // ---------------------------------------------------------------- the processes

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

  /** Starts processor number {@code n}; every fourth one's publisher does not keep order. */
  private Worker startWorker(int n, Ordering ordering, int batch, Path logs) throws Exception {
    String id = "ocrash-" + n;
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(
            java,
            "-Xmx128m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            System.getProperty("java.class.path"),
            OrderedCrashWorker.class.getName(),
            kind.name(),
            TestDatabase.url(kind),
            table,
            id,
            ordering.name(),
            Boolean.toString(n % 4 != 3),
            Integer.toString(batch));
    Path log = logs.resolve(id + ".log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    return new Worker(pb.start(), log);
  }
}
