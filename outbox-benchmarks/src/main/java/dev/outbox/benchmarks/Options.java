package dev.outbox.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The benchmark's parameters, parsed from the command line. Every option has a default; {@code
 * --quick} switches to a small preset (for CI) that later options may still override.
 */
record Options(
    Db db,
    String jdbcUrl,
    int backlog,
    int batch,
    List<Integer> processors,
    int payload,
    int runs,
    int latencyRate,
    Duration latencyDuration,
    boolean quick,
    boolean skipGruelbox,
    Set<String> only,
    List<Integer> writerThreads,
    Duration writerDuration,
    List<Integer> sustainedRates,
    Duration sustainedDuration,
    String sustainedTableOptions,
    int orderedBacklog,
    Set<String> orderedVariants,
    List<Integer> kafkaProcessors) {

  /** The parts of the benchmark, for {@code --only}. */
  static final List<String> PARTS =
      List.of(
          "producer",
          "writers",
          "limits",
          "drain",
          "ordered",
          "wal",
          "gruelbox",
          "latency",
          "sustained",
          "roundtrips",
          "kafka");

  /** The variants of the ordered part, for {@code --ordered-variants}. */
  static final List<String> ORDERED_VARIANTS = List.of("unordered", "many", "hot", "hot_per_key");

  /** The databases the benchmark knows. */
  enum Db {
    POSTGRES,
    MYSQL
  }

  static final String USAGE =
      String.join(
          "\n",
          "usage: java -jar outbox-benchmarks.jar [options]",
          "  --db postgres|mysql      database (default postgres)",
          "  --jdbc-url URL           JDBC URL (default: $OUTBOX_TEST_POSTGRES_URL or",
          "                           $OUTBOX_TEST_MYSQL_URL, else a local server, see README)",
          "  --backlog N              messages per drain / producer run (default 200000)",
          "  --batch N                batch size: claims, plain-SQL loops, gruelbox flush (default"
              + " 1000)",
          "  --processors LIST        processor counts for the drain, e.g. 1,2,4 (default 1,2,4)",
          "  --payload BYTES          payload size (default 200)",
          "  --runs N                 runs per figure; the median is reported (default 3)",
          "  --latency-rate N         offered load of the latency figure, msgs/s (default 2000)",
          "  --latency-seconds S      length of each latency run (default 5)",
          "  --writer-threads LIST    writer thread counts, one message per transaction (default"
              + " 1,8,32)",
          "  --writer-seconds S       length of each writers measurement (default 5)",
          "  --sustained-rates LIST   offered loads of the sustained runs, msgs/s (default"
              + " 500,1000,2000,4000)",
          "  --sustained-seconds S    length of each sustained run (default 60)",
          "  --sustained-table-options OPTS  also run each sustained rate on a table with ALTER TABLE"
              + " ... SET (OPTS), e.g. autovacuum_vacuum_scale_factor=0 (PostgreSQL)",
          "  --ordered-backlog N      messages per ordered-drain variant (default 100000; the"
              + " hot keys without keepsOrder() get a tenth)",
          "  --ordered-variants LIST  ordered part: only these of unordered,many,hot,hot_per_key"
              + " (default all)",
          "  --kafka-processors LIST  Outbox counts of the kafka part's drains (default 1,2)",
          "  --skip-gruelbox          leave out the gruelbox comparison",
          "  --only LIST              run only these parts: producer,writers,limits,drain,ordered,wal,"
              + "gruelbox,latency,sustained,roundtrips (MySQL),kafka",
          "  --quick                  small preset for CI: backlog 5000, 1 run, 1.5 s latency runs,"
              + " 0.4 s writers, 2 s sustained runs at 500,2000 msgs/s, ordered backlog 2000",
          "  --help                   this text");

  static final String DEFAULT_POSTGRES_URL =
      "jdbc:postgresql://127.0.0.1:5432/test?user=postgres&reWriteBatchedInserts=true";
  static final String DEFAULT_MYSQL_URL =
      "jdbc:mysql://127.0.0.1:3306/test?user=root&password=&rewriteBatchedStatements=true";

  /**
   * Parses the arguments.
   *
   * @param env the environment, for the database URL variables
   * @throws IllegalArgumentException naming the bad option
   */
  static Options parse(String[] args, Map<String, String> env) {
    boolean quick = false;
    for (String a : args) {
      if (a.equals("--quick")) {
        quick = true;
      }
    }
    Db db = Db.POSTGRES;
    String url = null;
    int backlog = quick ? 5_000 : 200_000;
    int batch = 1000;
    List<Integer> processors = List.of(1, 2, 4);
    int payload = 200;
    int runs = quick ? 1 : 3;
    int rate = 2000;
    Duration latency = quick ? Duration.ofMillis(1500) : Duration.ofSeconds(5);
    boolean skipGruelbox = false;
    Set<String> only = Set.copyOf(PARTS);
    List<Integer> writerThreads = List.of(1, 8, 32);
    Duration writerDuration = quick ? Duration.ofMillis(400) : Duration.ofSeconds(5);
    List<Integer> sustainedRates = quick ? List.of(500, 2000) : List.of(500, 1000, 2000, 4000);
    Duration sustainedDuration = quick ? Duration.ofSeconds(2) : Duration.ofSeconds(60);
    String sustainedTableOptions = null;
    int orderedBacklog = quick ? 2_000 : 100_000;
    Set<String> orderedVariants = Set.copyOf(ORDERED_VARIANTS);
    List<Integer> kafkaProcessors = List.of(1, 2);
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--quick":
          break;
        case "--skip-gruelbox":
          skipGruelbox = true;
          break;
        case "--db":
          String v = value(args, ++i, a);
          if (v.equalsIgnoreCase("postgres") || v.equalsIgnoreCase("postgresql")) {
            db = Db.POSTGRES;
          } else if (v.equalsIgnoreCase("mysql") || v.equalsIgnoreCase("mariadb")) {
            db = Db.MYSQL;
          } else {
            throw new IllegalArgumentException("--db is '" + v + "'; allowed: postgres, mysql");
          }
          break;
        case "--only":
          only = parts(value(args, ++i, a));
          break;
        case "--jdbc-url":
          url = value(args, ++i, a);
          break;
        case "--backlog":
          backlog = intValue(args, ++i, a, 1, 100_000_000);
          break;
        case "--batch":
          batch = intValue(args, ++i, a, 1, 10_000);
          break;
        case "--processors":
          processors = intList(value(args, ++i, a), a);
          break;
        case "--payload":
          payload = intValue(args, ++i, a, 0, 1024 * 1024);
          break;
        case "--ordered-backlog":
          orderedBacklog = intValue(args, ++i, a, 10, 100_000_000);
          break;
        case "--ordered-variants":
          orderedVariants = oneOf(value(args, ++i, a), a, ORDERED_VARIANTS);
          break;
        case "--runs":
          runs = intValue(args, ++i, a, 1, 100);
          break;
        case "--latency-rate":
          rate = intValue(args, ++i, a, 1, 100_000);
          break;
        case "--kafka-processors":
          kafkaProcessors = intList(value(args, ++i, a), a);
          break;
        case "--writer-threads":
          writerThreads = intList(value(args, ++i, a), a);
          break;
        case "--writer-seconds":
          writerDuration = Duration.ofMillis((long) (doubleValue(args, ++i, a) * 1000));
          break;
        case "--sustained-rates":
          sustainedRates = rateList(value(args, ++i, a), a);
          break;
        case "--sustained-table-options":
          sustainedTableOptions = value(args, ++i, a);
          if (!sustainedTableOptions.matches(
              "[a-z_]+\\s*=\\s*[0-9.]+(\\s*,\\s*[a-z_]+\\s*=\\s*[0-9.]+)*")) {
            throw new IllegalArgumentException(
                a + " is '" + sustainedTableOptions + "'; expected name=number[,name=number...]");
          }
          break;
        case "--sustained-seconds":
          sustainedDuration = Duration.ofMillis((long) (doubleValue(args, ++i, a) * 1000));
          break;
        case "--latency-seconds":
          latency = Duration.ofMillis((long) (doubleValue(args, ++i, a) * 1000));
          break;
        default:
          throw new IllegalArgumentException("unknown option '" + a + "'\n" + USAGE);
      }
    }
    if (url == null) {
      String var = db == Db.POSTGRES ? "OUTBOX_TEST_POSTGRES_URL" : "OUTBOX_TEST_MYSQL_URL";
      String fromEnv = env.get(var);
      url =
          fromEnv != null && !fromEnv.isBlank()
              ? fromEnv
              : db == Db.POSTGRES ? DEFAULT_POSTGRES_URL : DEFAULT_MYSQL_URL;
    }
    return new Options(
        db,
        url,
        backlog,
        batch,
        processors,
        payload,
        runs,
        rate,
        latency,
        quick,
        skipGruelbox,
        only,
        writerThreads,
        writerDuration,
        sustainedRates,
        sustainedDuration,
        sustainedTableOptions,
        orderedBacklog,
        orderedVariants,
        kafkaProcessors);
  }

  /** Whether a part of the benchmark runs. */
  boolean runs(String part) {
    return only.contains(part) && !(part.equals("gruelbox") && skipGruelbox);
  }

  private static Set<String> oneOf(String v, String option, List<String> allowed) {
    Set<String> set = new java.util.LinkedHashSet<>();
    for (String part : v.split(",")) {
      String p = part.trim();
      if (!allowed.contains(p)) {
        throw new IllegalArgumentException(
            option + " has '" + p + "'; allowed: " + String.join(", ", allowed));
      }
      set.add(p);
    }
    return Set.copyOf(set);
  }

  private static Set<String> parts(String v) {
    Set<String> set = new java.util.LinkedHashSet<>();
    for (String part : v.split(",")) {
      String p = part.trim();
      if (!PARTS.contains(p)) {
        throw new IllegalArgumentException(
            "--only has '" + p + "'; allowed: " + String.join(", ", PARTS));
      }
      set.add(p);
    }
    return Set.copyOf(set);
  }

  /** The largest processor count asked for. */
  int maxProcessors() {
    return processors.stream().mapToInt(Integer::intValue).max().orElse(1);
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  private static int intValue(String[] args, int i, String option, int min, int max) {
    String v = value(args, i, option);
    int n;
    try {
      n = Integer.parseInt(v.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " is '" + v + "'; expected a whole number", e);
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException(option + " is " + n + "; allowed " + min + " to " + max);
    }
    return n;
  }

  private static double doubleValue(String[] args, int i, String option) {
    String v = value(args, i, option);
    try {
      double d = Double.parseDouble(v);
      if (d <= 0 || d > 3600) {
        throw new IllegalArgumentException(option + " is " + v + "; allowed 0 to 3600 seconds");
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " is '" + v + "'; expected seconds", e);
    }
  }

  private static List<Integer> rateList(String v, String option) {
    List<Integer> list = new ArrayList<>();
    for (String part : v.split(",")) {
      int n;
      try {
        n = Integer.parseInt(part.trim().replace("_", ""));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            option + " is '" + v + "'; expected a comma-separated list like 500,1000", e);
      }
      if (n < 1 || n > 100_000) {
        throw new IllegalArgumentException(option + " has " + n + "; allowed 1 to 100000 each");
      }
      list.add(n);
    }
    return List.copyOf(list);
  }

  private static List<Integer> intList(String v, String option) {
    List<Integer> list = new ArrayList<>();
    for (String part : v.split(",")) {
      try {
        int n = Integer.parseInt(part.trim());
        if (n < 1 || n > 64) {
          throw new IllegalArgumentException(option + " has " + n + "; allowed 1 to 64 each");
        }
        list.add(n);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            option + " is '" + v + "'; expected a comma-separated list like 1,2,4", e);
      }
    }
    return List.copyOf(list);
  }
}
