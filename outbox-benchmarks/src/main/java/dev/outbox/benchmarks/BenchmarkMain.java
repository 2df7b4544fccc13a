package dev.outbox.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/**
 * Runs every benchmark against one database and prints the figures; see the module's README.
 *
 * <pre>
 * java -jar outbox-benchmarks/target/outbox-benchmarks.jar --db postgres
 * </pre>
 */
public final class BenchmarkMain {

  private final Options o;
  private final PrintStream out;
  private final Report report;
  private boolean notify; // whether the database has LISTEN/NOTIFY
  private SqlDatabase db;

  private BenchmarkMain(Options o, PrintStream out) {
    this.o = o;
    this.out = out;
    this.report = new Report(out);
  }

  /** Runs the benchmark; exits with 0 on success, 1 on a failed run, 2 on bad arguments. */
  public static void main(String[] args) {
    // gruelbox's Hibernate Validator logs through jboss-logging; route it to SLF4J (WARN).
    System.setProperty("org.jboss.logging.provider", "slf4j");
    int status = run(args, System.getenv(), System.out);
    // Always exit: the kafka part's in-JVM broker runs on non-daemon threads until the JVM ends.
    System.exit(status);
  }

  /**
   * Runs the benchmark and prints to {@code out}; the tests call this.
   *
   * @return 0 on success, 1 when a run failed, 2 on bad arguments
   */
  public static int run(String[] args, Map<String, String> env, PrintStream out) {
    for (String a : args) {
      if (a.equals("--help") || a.equals("-h")) {
        out.println(Options.USAGE);
        return 0;
      }
    }
    Options o;
    try {
      o = Options.parse(args, env);
    } catch (IllegalArgumentException e) {
      out.println(e.getMessage());
      return 2;
    }
    try {
      new BenchmarkMain(o, out).run();
      return 0;
    } catch (Exception e) {
      out.println("benchmark failed: " + e);
      e.printStackTrace(out);
      return 1;
    }
  }

  /**
   * One pool shared by ours, gruelbox and the plain-SQL loops, so no figure pays a connect per
   * transaction. Large enough never to make a thread wait: the benchmark bounds its own threads.
   */
  private static HikariDataSource pool(String url) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    // 32 writer threads, plus the storage's coalescing notifier, plus a listener's check.
    config.setMaximumPoolSize(36);
    config.setPoolName("benchmarks");
    return new HikariDataSource(config);
  }

  private void run() throws Exception {
    long started = System.nanoTime();
    byte[] payload = Bench.asciiPayload(o.payload());
    try (HikariDataSource ds = pool(o.jdbcUrl())) {
      Jdbi jdbi = Jdbi.create(ds);
      db = SqlDatabase.of(o.db(), ds);
      OurStorage ours = OurStorage.of(o, jdbi);
      notify = ours.supportsNotify();
      ours.createSchema();
      printHeader(db);

      OurBench bench = new OurBench(ours, db, o, payload);
      SqlLimits limits = new SqlLimits(db, o, payload);
      WritersBench writers = new WritersBench(ours, db, payload);
      WalBench wal = notify ? new WalBench(ours, db, o, payload) : null;
      GruelboxBench gruelbox = o.runs("gruelbox") ? new GruelboxBench(db, o, payload) : null;
      KafkaBench kafka = null;
      if (o.runs("kafka")) {
        long k = System.nanoTime();
        kafka = new KafkaBench(ours, db, o, payload);
        out.printf(
            Locale.ROOT,
            "kafka:    %s broker started in this JVM in %.1f s (KRaft, 1 node, %d partitions per"
                + " topic)%n",
            KafkaBench.version(),
            (System.nanoTime() - k) / 1e9,
            KafkaBench.PARTITIONS);
      }
      List<OurBench.Wakeup> wakeups = new ArrayList<>();
      if (ours.supportsNotify()) {
        wakeups.add(OurBench.Wakeup.NOTIFY);
        wakeups.add(OurBench.Wakeup.NOTIFY_IN_TX);
      }
      wakeups.add(OurBench.Wakeup.WAKE);
      wakeups.add(OurBench.Wakeup.POLL_100MS);
      wakeups.add(OurBench.Wakeup.POLL_1S);

      // Warm-up: every code path once, at a small size, figures thrown away.
      long t = System.nanoTime();
      int warm = Math.min(o.backlog(), o.quick() ? 2_000 : 20_000);
      if (o.runs("producer")) {
        bench.produceWithOutbox(warm, true);
        bench.produceWithInsert(warm);
      }
      if (o.runs("writers")) {
        for (WritersBench.Mode m : writerModes()) {
          writers.run(m, o.writerThreads().get(0), Duration.ofMillis(o.quick() ? 100 : 1000));
        }
      }
      if (wal != null && o.runs("wal")) {
        wal.ours(Math.min(warm, 1_000));
        wal.plain(Math.min(warm, 1_000));
      }
      if (o.runs("limits")) {
        limits.lease(1, warm);
        limits.delete(1, warm);
      }
      if (o.runs("drain")) {
        bench.drain(o.maxProcessors(), warm);
      }
      if (gruelbox != null) {
        gruelbox.drain(o.maxProcessors(), Math.min(warm, 2_000));
      }
      if (o.runs("latency")) {
        bench.latency(wakeups.get(0), o.latencyRate(), Duration.ofMillis(o.quick() ? 300 : 1000));
      }
      if (kafka != null) {
        kafka.plain(warm);
        for (int p : o.kafkaProcessors()) {
          kafka.drain(p, warm, true);
          kafka.drain(p, warm, false);
        }
      }
      out.printf(Locale.ROOT, "warm-up done in %.1f s%n", (System.nanoTime() - t) / 1e9);

      for (int run = 1; run <= o.runs(); run++) {
        t = System.nanoTime();
        out.printf(Locale.ROOT, "run %d of %d%n", run, o.runs());
        runOnce(bench, writers, limits, gruelbox, wakeups, run);
        if (kafka != null) {
          long k = System.nanoTime();
          kafka(kafka, run);
          out.printf(Locale.ROOT, "kafka part done in %.1f s%n", (System.nanoTime() - k) / 1e9);
        }
        if (wal != null && o.runs("wal")) {
          wal(wal, run);
        }
        out.printf(
            Locale.ROOT,
            "run %d of %d done in %.1f s%n",
            run,
            o.runs(),
            (System.nanoTime() - t) / 1e9);
      }
      if (o.runs("sustained")) {
        sustained(new SustainedBench(ours, db, payload));
      }
      db.reset();
    }
    addRatios();
    report.print(out);
    out.println();
    out.println("load at the end: " + loadAverage());
    out.printf(Locale.ROOT, "%ntotal time %.1f s%n", (System.nanoTime() - started) / 1e9);
  }

  private void runOnce(
      OurBench bench,
      WritersBench writers,
      SqlLimits limits,
      GruelboxBench gruelbox,
      List<OurBench.Wakeup> wakeups,
      int run)
      throws Exception {
    int n = o.backlog();
    if (o.runs("producer")) {
      producer(bench, n, notify);
    }
    if (o.runs("writers")) {
      writers(writers, run);
    }
    for (int p : o.processors()) {
      if (o.runs("limits")) {
        record(
            "limit.lease.p" + p,
            "plain SQL: claim UPDATE..SKIP LOCKED RETURNING + DELETE per batch, " + p + " conn",
            limits.lease(p, n));
        record(
            "limit.delete.p" + p,
            "plain SQL: one DELETE..SKIP LOCKED RETURNING per batch, " + p + " conn",
            limits.delete(p, n));
      }
      if (o.runs("drain")) {
        record(
            "drain.p" + p,
            p + " Outbox(es) pumping until empty, counting publisher",
            bench.drain(p, n));
      }
    }
    if (o.runs("roundtrips") && o.db() == Options.Db.MYSQL) {
      RoundTrips trips = new RoundTrips(db, o.jdbcUrl(), Bench.asciiPayload(o.payload()));
      int batch = Math.min(o.batch(), 100);
      report.add(
          "roundtrips.batch.before",
          "trips",
          "MySqlStorage before the JDBC engine (main 4a85055, measured once, batch 100, see README)",
          RoundTrips.BEFORE);
      report.add(
          "roundtrips.batch.autocommit_on",
          "trips",
          "claim + delete of " + batch + ", server's Questions counter, pool auto-commit on",
          trips.perBatch(true, batch));
      report.add(
          "roundtrips.batch.autocommit_off",
          "trips",
          "the same, pool auto-commit off (each unit of work ends with a COMMIT)",
          trips.perBatch(false, batch));
    }
    if (gruelbox != null) {
      int p = o.maxProcessors();
      report.add(
          "gruelbox.drain.p" + p,
          "msgs/s",
          "gruelbox 4.2.268: 1 flush loop + " + p + " workers, counting method",
          gruelbox.drain(p, n));
    }
    if (o.runs("latency")) {
      latency(bench, wakeups);
    }
  }

  /**
   * Records a drain-type result: its rate, and as diagnostics the JVM's CPU per message and the
   * milliseconds per batch spent in the claim and in the delete (summed over threads).
   */
  private void record(String name, String what, DrainResult r) {
    report.add(name, "msgs/s", what, r.rate());
    diagnostic(
        name + ".jvm_cpu_us", "us/msg", "  JVM CPU per message (all threads)", r.cpuMicros());
    diagnostic(name + ".claim_ms", "ms", "  time in the claim per batch", r.claimMillis());
    diagnostic(name + ".delete_ms", "ms", "  time in the delete per batch", r.deleteMillis());
  }

  private void diagnostic(String name, String unit, String what, double value) {
    if (!Double.isNaN(value)) {
      report.add(name, unit, what, value);
    }
  }

  private void producer(OurBench bench, int n, boolean notify) throws Exception {
    report.add(
        "producer.outbox_publish",
        "msgs/s",
        "Outbox.publish, 100 per transaction, 1 thread (default storage: coalesced NOTIFY)",
        bench.produceWithOutbox(n, true));
    if (notify) {
      report.add(
          "producer.outbox_publish_nonotify",
          "msgs/s",
          "the same with notifyMode(NONE): what the coalesced NOTIFY costs",
          bench.produceWithOutbox(n, false));
    }
    report.add(
        "producer.batched_insert",
        "msgs/s",
        "hand-written batched INSERT of the same rows, 100 per transaction",
        bench.produceWithInsert(n));
  }

  /**
   * The kafka part: a plain producer, then for each processor count the drain into the broker and
   * the same drain with a counting publisher; the measurements in an order rotated by run, so that
   * drift in the machine's load favours none of them.
   */
  private void kafka(KafkaBench kafka, int run) throws Exception {
    int n = o.backlog();
    List<String> steps = new ArrayList<>();
    steps.add("plain");
    for (int p : o.kafkaProcessors()) {
      steps.add("drain." + p);
      steps.add("noop." + p);
    }
    for (int k = 0; k < steps.size(); k++) {
      String step = steps.get((k + run - 1) % steps.size());
      if (step.equals("plain")) {
        report.add(
            "kafka.plain",
            "msgs/s",
            "plain KafkaProducer, 1 thread: send all, flush, every ack checked (same settings)",
            kafka.plain(n));
        continue;
      }
      int p = Integer.parseInt(step.substring(step.indexOf('.') + 1));
      if (step.startsWith("drain.")) {
        KafkaBench.Result r = kafka.drain(p, n, true);
        record(
            "kafka.drain.p" + p,
            p + " Outbox(es) pumping into KafkaPublisher (acks=all, idempotent), real broker",
            r.drain());
        diagnostic(
            "kafka.drain.p" + p + ".publish_ms",
            "ms",
            "  time in KafkaPublisher.publish per batch",
            r.publishMillis());
      } else {
        KafkaBench.Result r = kafka.drain(p, n, false);
        record(
            "kafka.noop_drain.p" + p,
            "the same drain, publisher only counts: the database-bound limit",
            r.drain());
      }
    }
  }

  /** WAL per message, ours and the plain-SQL floor, in an order rotated by run. */
  private void wal(WalBench wal, int run) throws Exception {
    int n = Math.min(o.backlog(), o.quick() ? 2_000 : 20_000);
    out.printf(Locale.ROOT, "wal (%d messages, one per transaction)%n", n);
    WalBench.Wal ours = null;
    WalBench.Wal plain = null;
    for (int k = 0; k < 2; k++) {
      if ((k + run) % 2 == 0) {
        ours = wal.ours(n);
      } else {
        plain = wal.plain(n);
      }
    }
    report.add("wal.outbox.publish", "B/msg", "WAL of Outbox.publish, 1 per tx", ours.publish());
    report.add(
        "wal.outbox.drain", "B/msg", "WAL of 1 Outbox draining (claim + delete)", ours.drain());
    report.add(
        "wal.outbox.total",
        "B/msg",
        "WAL of publish + drain, outbox",
        ours.publish() + ours.drain());
    report.add(
        "wal.plain.insert", "B/msg", "WAL of a plain single-row INSERT per tx", plain.publish());
    report.add(
        "wal.plain.delete_drain", "B/msg", "WAL of DELETE..SKIP LOCKED..RETURNING", plain.drain());
    report.add(
        "wal.plain.total",
        "B/msg",
        "WAL of INSERT + DELETE drain",
        plain.publish() + plain.drain());
    report.add(
        "wal.background",
        "B/msg",
        "  other sessions' WAL in an idle window as long (shared server)",
        (ours.background() + plain.background()) / 2);
  }

  /**
   * Each rate once, at the end: its figures are one long run each, not medians of runs. With {@code
   * --sustained-table-options}, each rate runs a second time right after, on a table with those
   * options, as {@code sustained.tuned.rR.*}.
   */
  private void sustained(SustainedBench bench) throws Exception {
    Integer best = null;
    for (int rate : o.sustainedRates()) {
      if (sustainedOnce(bench, rate, null)) {
        best = best == null ? rate : Math.max(best, rate);
      }
      if (o.sustainedTableOptions() != null) {
        sustainedOnce(bench, rate, o.sustainedTableOptions());
      }
    }
    if (best != null) {
      report.add(
          "sustained.best_rate",
          "msgs/s",
          "highest offered rate with p99 < 50 ms and a bounded backlog",
          best);
    } else {
      out.println("sustained: no rate kept p99 under 50 ms with a bounded backlog");
    }
  }

  /** One sustained rate; whether it met the target. */
  private boolean sustainedOnce(SustainedBench bench, int rate, String tableOptions)
      throws Exception {
    out.printf(
        Locale.ROOT,
        "sustained %d msgs/s for %.0f s%s (load %s)%n",
        rate,
        o.sustainedDuration().toMillis() / 1000.0,
        tableOptions == null ? "" : ", table options " + tableOptions,
        loadAverage());
    SustainedBench.Result r = bench.run(rate, o.sustainedDuration(), tableOptions);
    String p = (tableOptions == null ? "sustained.r" : "sustained.tuned.r") + rate;
    String w =
        SustainedBench.WRITERS
            + " writers, "
            + SustainedBench.PROCESSORS
            + " started"
            + (notify ? "" : ", woken in-process")
            + (tableOptions == null ? "" : ", tuned table");
    report.add(
        p + ".achieved",
        "msgs/s",
        "published per second at " + rate + " offered, " + w,
        r.achieved());
    report.add(p + ".p50", "ms", "  commit-to-publish p50", r.p50());
    report.add(p + ".p99", "ms", "  commit-to-publish p99", r.p99());
    report.add(
        p + ".backlog_max", "msgs", "  largest backlog (committed - published)", r.backlogMax());
    report.add(p + ".backlog_end", "msgs", "  backlog when the writers stopped", r.backlogEnd());
    if (r.unpublished() > 0) {
      report.add(
          p + ".unpublished",
          "msgs",
          "  still unpublished 30 s after the writers stopped (their p99 is a lower bound)",
          r.unpublished());
    }
    if (notify) {
      report.add(p + ".dead_tuples", "rows", "  n_dead_tup at the end", r.deadTuples());
      report.add(p + ".live_tuples", "rows", "  n_live_tup at the end", r.liveTuples());
      report.add(
          p + ".table_kib", "KiB", "  pg_total_relation_size at the end", r.tableBytes() / 1024.0);
      report.add(p + ".autovacuums", "runs", "  autovacuum_count at the end", r.autovacuums());
    } else {
      report.add(
          p + ".table_kib",
          "KiB",
          "  data_length + index_length at the end (information_schema)",
          r.tableBytes() / 1024.0);
    }
    return r.p99() < 50 && r.bounded() && r.achieved() >= rate * 0.95;
  }

  private List<WritersBench.Mode> writerModes() {
    return notify
        ? List.of(
            WritersBench.Mode.INSERT,
            WritersBench.Mode.OUTBOX,
            WritersBench.Mode.OUTBOX_NO_NOTIFY,
            WritersBench.Mode.OUTBOX_NOTIFY_IN_TX)
        : List.of(WritersBench.Mode.INSERT, WritersBench.Mode.OUTBOX);
  }

  /**
   * Each thread count's modes back to back, in an order rotated by run, so that drift in the
   * machine's load favours none of them.
   */
  private void writers(WritersBench writers, int run) throws Exception {
    List<WritersBench.Mode> modes = writerModes();
    for (int threads : o.writerThreads()) {
      for (int k = 0; k < modes.size(); k++) {
        WritersBench.Mode m = modes.get((k + run - 1) % modes.size());
        report.add(
            "writers." + m.label + ".t" + threads,
            "tx/s",
            m.what + ", " + threads + " thread(s)",
            writers.run(m, threads, o.writerDuration()));
      }
    }
  }

  private void latency(OurBench bench, List<OurBench.Wakeup> wakeups) throws Exception {
    for (OurBench.Wakeup w : wakeups) {
      double[] l = bench.latency(w, o.latencyRate(), o.latencyDuration());
      String what =
          switch (w) {
            case NOTIFY -> "LISTEN/NOTIFY, default coalesced NOTIFY (poll 1 s as fallback)";
            case NOTIFY_IN_TX -> "LISTEN/NOTIFY, pg_notify in each transaction (poll 1 s)";
            case WAKE -> "in-process wakeProcessor() after commit (poll 1 s)";
            case POLL_100MS -> "polling every 100 ms, no wake-up";
            case POLL_1S -> "polling every 1 s, no wake-up";
          };
      report.add("latency." + w.label + ".p50", "ms", "commit-to-publish p50, " + what, l[0]);
      report.add("latency." + w.label + ".p99", "ms", "commit-to-publish p99, " + what, l[1]);
      if (l[2] < o.latencyRate() * 0.95) {
        out.printf(
            Locale.ROOT,
            "note: latency.%s achieved only %.0f of %d msgs/s offered%n",
            w.label,
            l[2],
            o.latencyRate());
      }
    }
  }

  private void addRatios() {
    for (int p : o.kafkaProcessors()) {
      report.ratio(
          "ratio.kafka.drain_over_plain.p" + p,
          "kafka.drain.p" + p,
          "kafka.plain",
          "drain into Kafka / plain KafkaProducer, " + p + " Outbox(es) (target >= 0.7)");
      report.ratio(
          "ratio.kafka.noop_over_plain.p" + p,
          "kafka.noop_drain.p" + p,
          "kafka.plain",
          "counting drain / plain KafkaProducer, "
              + p
              + " Outbox(es): the most any overlap of claim and publish could reach");
      report.ratio(
          "ratio.kafka.drain_over_noop.p" + p,
          "kafka.drain.p" + p,
          "kafka.noop_drain.p" + p,
          "drain into Kafka / the same drain into a counting publisher, " + p + " Outbox(es)");
    }
    report.ratio(
        "ratio.wal.outbox_over_plain",
        "wal.outbox.total",
        "wal.plain.total",
        "WAL per message, publish + drain: outbox / INSERT + DELETE..RETURNING");
    for (int t : o.writerThreads()) {
      report.ratio(
          "ratio.writers.outbox_over_insert.t" + t,
          "writers.outbox.t" + t,
          "writers.insert.t" + t,
          "Outbox.publish / plain INSERT, 1 msg per tx, " + t + " thread(s) (target >= 0.9)");
      report.ratio(
          "ratio.writers.notify_in_tx_over_insert.t" + t,
          "writers.outbox_notify_in_tx.t" + t,
          "writers.insert.t" + t,
          "the same with pg_notify in each transaction / plain INSERT, " + t + " thread(s)");
    }
    report.ratio(
        "ratio.producer.insert_over_publish",
        "producer.batched_insert",
        "producer.outbox_publish",
        "how many times faster the hand-written INSERT is (target <= 1.5)");
    for (int p : o.processors()) {
      report.ratio(
          "ratio.drain_over_lease.p" + p,
          "drain.p" + p,
          "limit.lease.p" + p,
          "our drain / plain-SQL lease limit, " + p + " processor(s) (target >= 0.5)");
      report.ratio(
          "ratio.drain_over_delete.p" + p,
          "drain.p" + p,
          "limit.delete.p" + p,
          "our drain / plain-SQL delete limit, " + p + " processor(s)");
    }
    int p = o.maxProcessors();
    report.ratio(
        "ratio.ours_over_gruelbox.p" + p,
        "drain.p" + p,
        "gruelbox.drain.p" + p,
        "our drain / gruelbox's, " + p + " processors / workers (target >= 10)");
    report.ratio(
        "ratio.ours_p1_over_gruelbox.p" + p,
        "drain.p1",
        "gruelbox.drain.p" + p,
        "our drain with 1 processor / gruelbox's with " + p + " workers");
  }

  /** The system load averages, where the OS tells (Linux), else "unknown". */
  private static String loadAverage() {
    try {
      String[] parts =
          java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim().split(" ");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (java.io.IOException | RuntimeException e) {
      double one =
          java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
      return one < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f", one);
    }
  }

  private void printHeader(SqlDatabase db) throws Exception {
    Runtime rt = Runtime.getRuntime();
    out.println("outbox benchmarks");
    out.printf(
        Locale.ROOT,
        "machine:  %d cores, %s %s, Java %s (%s), max heap %d MiB%n",
        rt.availableProcessors(),
        System.getProperty("os.name"),
        System.getProperty("os.arch"),
        System.getProperty("java.version"),
        System.getProperty("java.vm.name"),
        rt.maxMemory() / (1024 * 1024));
    out.println("database: " + db.version());
    out.println(
        "load:     "
            + loadAverage()
            + " (1, 5, 15 min; other work on the machine skews every figure)");
    out.println("jdbc url: " + o.jdbcUrl().replaceAll("(?i)(password=)[^&;]*", "$1***"));
    out.printf(
        Locale.ROOT,
        "params:   db=%s backlog=%d batch=%d processors=%s payload=%d runs=%d"
            + " latency=%d msgs/s for %.1f s%s%s%n",
        o.db().name().toLowerCase(Locale.ROOT),
        o.backlog(),
        o.batch(),
        o.processors(),
        o.payload(),
        o.runs(),
        o.latencyRate(),
        o.latencyDuration().toMillis() / 1000.0,
        o.quick() ? " (quick preset)" : "",
        o.skipGruelbox() ? " gruelbox skipped" : "");
    out.println(
        "tables:   ours " + SqlDatabase.TABLE + " (adapter createSchema), gruelbox TXNO_OUTBOX");
    out.println();
  }
}
