package dev.outbox.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.jdbc.JdbcDialect;
import dev.outbox.jdbc.JdbcStorage;
import dev.outbox.jdbc.LeaseMode;
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
  private JdbcStorage rowJdbc; // the JDBC engine on the benchmark's pool, row leases
  private JdbcStorage lockJdbc; // the same, lock-held leases

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
      OrderedBench ordered = o.runs("ordered") ? new OrderedBench(ours, db, o, payload) : null;
      SqlLimits limits = new SqlLimits(db, o, payload);
      WritersBench writers = new WritersBench(ours, db, payload);
      rowJdbc = jdbcStorage(ds, LeaseMode.ROW);
      lockJdbc = jdbcStorage(ds, LeaseMode.LOCK);
      WalBench wal = new WalBench(ours, db, o, payload);
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
      if (o.runs("wal")) {
        wal.ours(Math.min(warm, 1_000));
        wal.plain(Math.min(warm, 1_000));
        wal.jdbc(Math.min(warm, 1_000), rowJdbc);
        wal.jdbc(Math.min(warm, 1_000), lockJdbc);
      }
      if (o.runs("limits")) {
        limits.lease(1, warm);
        limits.delete(1, warm);
      }
      if (o.runs("drain")) {
        bench.drain(o.maxProcessors(), warm);
        bench.drain(o.maxProcessors(), warm, rowJdbc);
        bench.drain(o.db() == Options.Db.POSTGRES ? o.maxProcessors() : 1, warm, lockJdbc);
      }
      if (ordered != null) {
        for (OrderedBench.Variant v : orderedVariants()) {
          ordered.run(v, orderedProcessors(), Math.min(orderedBacklog(v), 1_000));
        }
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
        if (ordered != null) {
          ordered(ordered, run);
        }
        if (kafka != null) {
          long k = System.nanoTime();
          kafka(kafka, run);
          out.printf(Locale.ROOT, "kafka part done in %.1f s%n", (System.nanoTime() - k) / 1e9);
        }
        if (o.runs("wal")) {
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
      // The limits and the drains of one processor count back to back, in an order rotated by
      // run, so that drift in the machine's load favours none of them.
      List<Runnable> parts = new ArrayList<>();
      if (o.runs("limits")) {
        parts.add(
            () ->
                record(
                    "limit.lease.p" + p,
                    "plain SQL: claim UPDATE..SKIP LOCKED RETURNING + DELETE per batch, "
                        + p
                        + " conn",
                    unchecked(() -> limits.lease(p, n))));
        parts.add(
            () ->
                record(
                    "limit.delete.p" + p,
                    "plain SQL: one DELETE..SKIP LOCKED RETURNING per batch, " + p + " conn",
                    unchecked(() -> limits.delete(p, n))));
      }
      if (o.runs("drain")) {
        parts.add(
            () ->
                record(
                    "drain.p" + p,
                    p + " Outbox(es) pumping until empty, counting publisher",
                    unchecked(() -> bench.drain(p, n))));
        parts.add(
            () ->
                record(
                    "drain.row.p" + p,
                    "  the same on JdbcStorage over the pool, leaseMode ROW (row lease)",
                    unchecked(() -> bench.drain(p, n, rowJdbc))));
      }
      // MariaDB deadlocks lock-held claims' DELETEs when several processors drain at once (see
      // outbox-jdbc's README); the rolled-back batches are published twice and the drain check
      // fails, so on MySQL/MariaDB the LOCK drain runs with one processor only.
      if (o.runs("drain") && (p == 1 || o.db() == Options.Db.POSTGRES)) {
        parts.add(
            () ->
                record(
                    "drain.lock.p" + p,
                    "  the same, leaseMode LOCK (SELECT..FOR UPDATE SKIP LOCKED held open)",
                    unchecked(() -> bench.drain(p, n, lockJdbc))));
      }
      for (int k = 0; k < parts.size(); k++) {
        parts.get((k + run - 1) % parts.size()).run();
      }
    }
    if (o.runs("drain")) {
      report.add(
          "drain.lock.fallbacks",
          "claims",
          "  LOCK claims that took a row lease (maxLockedClaims held), all runs",
          lockJdbc.lockedClaimFallbacks());
      report.add(
          "drain.lock.deadlocks",
          "claims",
          "  LOCK claims a deadlock rolled back before their delete, all runs",
          lockJdbc.lockedClaimDeadlocks());
      report.add(
          "drain.lock.conversions",
          "claims",
          "  LOCK claims converted to row leases (renewal or hold limit), all runs",
          lockJdbc.lockedClaimConversions());
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

  /** Work that may throw, for the rotated list of parts. */
  @FunctionalInterface
  private interface Measured {
    DrainResult run() throws Exception;
  }

  private static DrainResult unchecked(Measured m) {
    try {
      return m.run();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The JDBC engine over the benchmark's pool and table. LOCK may hold one connection per
   * processor: enough for the largest processor count, so that every claim is lock-held.
   */
  private JdbcStorage jdbcStorage(HikariDataSource ds, LeaseMode mode) {
    return JdbcStorage.builder(ds)
        .dialect(o.db() == Options.Db.POSTGRES ? JdbcDialect.postgres() : JdbcDialect.mysql())
        .tableName(SqlDatabase.TABLE)
        .leaseMode(mode)
        .maxLockedClaims(Math.max(4, o.maxProcessors()))
        .build();
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

  /**
   * The ordered drain's processors: 2 outboxes (as the drain part's middle figure), or fewer when
   * {@code --processors} asks for fewer.
   */
  private int orderedProcessors() {
    return Math.min(2, o.maxProcessors());
  }

  /** The variants {@code --ordered-variants} asks for, in their fixed order. */
  private List<OrderedBench.Variant> orderedVariants() {
    List<OrderedBench.Variant> list = new ArrayList<>();
    for (OrderedBench.Variant v : OrderedBench.Variant.values()) {
      if (o.orderedVariants().contains(v.label)) {
        list.add(v);
      }
    }
    return list;
  }

  /** The backlog of a variant: the hot keys one entry per key per claim get a tenth. */
  private int orderedBacklog(OrderedBench.Variant v) {
    return v == OrderedBench.Variant.HOT_PER_KEY
        ? Math.max(10, o.orderedBacklog() / 10)
        : o.orderedBacklog();
  }

  /**
   * The ordered drain's variants back to back, in an order rotated by run so that drift in the
   * machine's load favours none of them; each writes its backlog (a figure: the per-key lock's cost
   * to a writer) and drains it.
   */
  private void ordered(OrderedBench bench, int run) throws Exception {
    long started = System.nanoTime();
    int p = orderedProcessors();
    List<OrderedBench.Variant> variants = orderedVariants();
    out.printf(
        Locale.ROOT,
        "ordered drain (%d messages per variant, %d for hot_per_key; %d outboxes, batch %d;"
            + " load %s)%n",
        o.orderedBacklog(),
        orderedBacklog(OrderedBench.Variant.HOT_PER_KEY),
        p,
        o.batch(),
        loadAverage());
    for (int k = 0; k < variants.size(); k++) {
      OrderedBench.Variant v = variants.get((k + run - 1) % variants.size());
      int n = orderedBacklog(v);
      OrderedBench.Result r = bench.run(v, p, n);
      String name = "ordered." + v.label;
      report.add(
          name + ".publish",
          "msgs/s",
          "preload: Outbox.publish, 100 per tx, 1 thread, " + v.what().split(", publisher")[0],
          r.publishRate());
      record(name + ".drain.p" + p, p + " Outboxes draining " + n + ": " + v.what(), r.drain());
    }
    out.printf(
        Locale.ROOT,
        "ordered drain done in %.1f s (load %s)%n",
        (System.nanoTime() - started) / 1e9,
        loadAverage());
  }

  /**
   * WAL (MySQL/MariaDB: InnoDB redo) per message, ours, the JDBC engine in each lease mode and the
   * plain-SQL floor, in an order rotated by run.
   */
  private void wal(WalBench wal, int run) throws Exception {
    int n = Math.min(o.backlog(), o.quick() ? 2_000 : 20_000);
    out.printf(Locale.ROOT, "wal (%s, %d messages, one per transaction)%n", wal.log(), n);
    WalBench.Wal ours = null;
    WalBench.Wal plain = null;
    WalBench.Wal row = null;
    WalBench.Wal lock = null;
    for (int k = 0; k < 4; k++) {
      switch ((k + run) % 4) {
        case 0 -> ours = wal.ours(n);
        case 1 -> plain = wal.plain(n);
        case 2 -> row = wal.jdbc(n, rowJdbc);
        default -> lock = wal.jdbc(n, lockJdbc);
      }
    }
    String log = wal.log();
    for (var mode : List.of(Map.entry("row", row), Map.entry("lock", lock))) {
      WalBench.Wal w = mode.getValue();
      String m = mode.getKey().toUpperCase(Locale.ROOT);
      report.add(
          "wal." + mode.getKey() + ".publish",
          "B/msg",
          log + " of Outbox.publish on JdbcStorage, 1 per tx, leaseMode " + m,
          w.publish());
      report.add(
          "wal." + mode.getKey() + ".drain",
          "B/msg",
          log + " of 1 Outbox draining JdbcStorage, leaseMode " + m,
          w.drain());
      report.add(
          "wal." + mode.getKey() + ".total",
          "B/msg",
          log + " of publish + drain, JdbcStorage leaseMode " + m,
          w.publish() + w.drain());
    }
    report.add("wal.outbox.publish", "B/msg", log + " of Outbox.publish, 1 per tx", ours.publish());
    report.add(
        "wal.outbox.drain", "B/msg", log + " of 1 Outbox draining (claim + delete)", ours.drain());
    report.add(
        "wal.outbox.total",
        "B/msg",
        log + " of publish + drain, outbox",
        ours.publish() + ours.drain());
    report.add(
        "wal.plain.insert", "B/msg", log + " of a plain single-row INSERT per tx", plain.publish());
    report.add(
        "wal.plain.delete_drain",
        "B/msg",
        log + " of the delete limit: DELETE..SKIP LOCKED..RETURNING",
        plain.drain());
    report.add(
        "wal.plain.total",
        "B/msg",
        log + " of INSERT + DELETE drain",
        plain.publish() + plain.drain());
    report.add(
        "wal.background",
        "B/msg",
        "  other sessions' " + log + " in an idle window as long (shared server)",
        (ours.background() + plain.background() + row.background() + lock.background()) / 4);
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
    for (String mode : List.of("row", "lock")) {
      report.ratio(
          "ratio.wal." + mode + "_over_plain",
          "wal." + mode + ".total",
          "wal.plain.total",
          "WAL per message, publish + drain: JdbcStorage "
              + mode.toUpperCase(Locale.ROOT)
              + " / INSERT + DELETE..RETURNING");
      report.ratio(
          "ratio.wal." + mode + "_drain_over_delete_drain",
          "wal." + mode + ".drain",
          "wal.plain.delete_drain",
          "WAL per message of the drain alone: JdbcStorage "
              + mode.toUpperCase(Locale.ROOT)
              + " / the delete limit");
    }
    for (int p : o.processors()) {
      report.ratio(
          "ratio.drain_lock_over_delete.p" + p,
          "drain.lock.p" + p,
          "limit.delete.p" + p,
          "JdbcStorage LOCK drain / plain-SQL delete limit, "
              + p
              + " processor(s) (target >= 0.7)");
      report.ratio(
          "ratio.drain_row_over_delete.p" + p,
          "drain.row.p" + p,
          "limit.delete.p" + p,
          "JdbcStorage ROW drain / plain-SQL delete limit, " + p + " processor(s)");
      report.ratio(
          "ratio.drain_lock_over_row.p" + p,
          "drain.lock.p" + p,
          "drain.row.p" + p,
          "JdbcStorage LOCK drain / ROW drain, " + p + " processor(s)");
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
    int op = orderedProcessors();
    report.ratio(
        "ratio.ordered.many_over_unordered",
        "ordered.many.drain.p" + op,
        "ordered.unordered.drain.p" + op,
        "ordered drain, 10,000 keys / unordered drain, same run (target >= 0.5)");
    report.ratio(
        "ratio.ordered.hot_over_unordered",
        "ordered.hot.drain.p" + op,
        "ordered.unordered.drain.p" + op,
        "ordered drain, 10 hot keys, keepsOrder() / unordered drain");
    report.ratio(
        "ratio.ordered.hot_per_key_over_unordered",
        "ordered.hot_per_key.drain.p" + op,
        "ordered.unordered.drain.p" + op,
        "ordered drain, 10 hot keys, 1 entry per key per call / unordered drain");
    report.ratio(
        "ratio.ordered.publish.many_over_unordered",
        "ordered.many.publish",
        "ordered.unordered.publish",
        "ordered publish (per-key locks), 10,000 keys / unordered publish");
    report.ratio(
        "ratio.ordered.publish.hot_over_unordered",
        "ordered.hot.publish",
        "ordered.unordered.publish",
        "ordered publish, 10 hot keys / unordered publish");
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
            + " latency=%d msgs/s for %.1f s ordered-backlog=%d%s%s%n",
        o.db().name().toLowerCase(Locale.ROOT),
        o.backlog(),
        o.batch(),
        o.processors(),
        o.payload(),
        o.runs(),
        o.latencyRate(),
        o.latencyDuration().toMillis() / 1000.0,
        o.orderedBacklog(),
        o.quick() ? " (quick preset)" : "",
        o.skipGruelbox() ? " gruelbox skipped" : "");
    out.println(
        "tables:   ours " + SqlDatabase.TABLE + " (adapter createSchema), gruelbox TXNO_OUTBOX");
    out.println();
  }
}
