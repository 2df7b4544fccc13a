package dev.outbox.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outbox.testing.TestDatabases;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs the benchmark's {@code --quick} preset against the test database and checks that it prints
 * every figure with a positive value. It asserts nothing about speed: figures are for people to
 * read, never a pass/fail threshold.
 */
class BenchmarkMainTest {

  private static final String URL_VARIABLE = "OUTBOX_TEST_POSTGRES_URL";

  private static final List<String> FIGURES =
      List.of(
          "producer.outbox_publish",
          "producer.outbox_publish_nonotify",
          "producer.batched_insert",
          "writers.insert.t1",
          "writers.insert.t8",
          "writers.insert.t32",
          "writers.outbox.t1",
          "writers.outbox.t8",
          "writers.outbox.t32",
          "writers.outbox_nonotify.t32",
          "writers.outbox_notify_in_tx.t32",
          "ratio.writers.outbox_over_insert.t1",
          "ratio.writers.outbox_over_insert.t8",
          "ratio.writers.outbox_over_insert.t32",
          "ratio.writers.notify_in_tx_over_insert.t32",
          "wal.outbox.publish",
          "wal.outbox.drain",
          "wal.plain.insert",
          "wal.plain.delete_drain",
          "ratio.wal.outbox_over_plain",
          "wal.row.drain",
          "wal.lock.drain",
          "wal.lock.total",
          "ratio.wal.lock_over_plain",
          "ratio.wal.lock_drain_over_delete_drain",
          "ratio.wal.row_drain_over_delete_drain",
          "sustained.r500.achieved",
          "sustained.r500.p50",
          "sustained.r500.p99",
          "sustained.r2000.achieved",
          "sustained.r2000.p99",
          "sustained.r2000.table_kib",
          "limit.lease.p1",
          "limit.lease.p2",
          "limit.lease.p4",
          "limit.delete.p1",
          "limit.delete.p2",
          "limit.delete.p4",
          "drain.p1",
          "drain.p2",
          "drain.p4",
          "drain.row.p1",
          "drain.row.p4",
          "drain.lock.p1",
          "drain.lock.p4",
          "ratio.drain_lock_over_delete.p1",
          "ratio.drain_lock_over_delete.p4",
          "ratio.drain_row_over_delete.p4",
          "ratio.drain_lock_over_row.p4",
          "gruelbox.drain.p4",
          "latency.notify.p50",
          "latency.notify.p99",
          "latency.notify_in_tx.p50",
          "latency.notify_in_tx.p99",
          "latency.wake.p50",
          "latency.wake.p99",
          "latency.poll_100ms.p50",
          "latency.poll_100ms.p99",
          "latency.poll_1s.p50",
          "latency.poll_1s.p99",
          "ratio.producer.insert_over_publish",
          "ratio.drain_over_lease.p1",
          "ratio.drain_over_delete.p4",
          "ratio.ours_over_gruelbox.p4",
          "ordered.unordered.publish",
          "ordered.many.publish",
          "ordered.hot.publish",
          "ordered.unordered.drain.p2",
          "ordered.many.drain.p2",
          "ordered.hot.drain.p2",
          "ordered.hot_per_key.drain.p2",
          "ratio.ordered.many_over_unordered",
          "ratio.ordered.hot_over_unordered",
          "ratio.ordered.hot_per_key_over_unordered",
          "ratio.ordered.publish.many_over_unordered",
          "ratio.ordered.publish.hot_over_unordered",
          "kafka.plain",
          "kafka.drain.p1",
          "kafka.drain.p2",
          "kafka.drain.p1.publish_ms",
          "kafka.noop_drain.p1",
          "kafka.noop_drain.p2",
          "ratio.kafka.drain_over_plain.p1",
          "ratio.kafka.drain_over_plain.p2",
          "ratio.kafka.noop_over_plain.p2",
          "ratio.kafka.drain_over_noop.p2");

  @Test
  void quickRunPrintsEveryFigureWithAPositiveValue() {
    // The URL in the environment, else a server TestDatabases starts: never skipped.
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put(URL_VARIABLE, TestDatabases.postgres().url());

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int status = BenchmarkMain.run(new String[] {"--db", "postgres", "--quick"}, env, out);
    String printed = bytes.toString(StandardCharsets.UTF_8);
    System.out.println(printed);

    assertEquals(0, status, "the benchmark failed; its output is above");
    Map<String, Double> values = machineLines(printed);
    for (String figure : FIGURES) {
      assertTrue(values.containsKey(figure), figure + " is missing from the output");
      assertTrue(values.get(figure) > 0, figure + " is " + values.get(figure) + ", not positive");
    }
  }

  @Test
  void quickMySqlRunPrintsEveryFigureThatAppliesWithAPositiveValue() {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("OUTBOX_TEST_MYSQL_URL", TestDatabases.mysql().url());

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int status =
        BenchmarkMain.run(
            new String[] {
              "--db",
              "mysql",
              "--quick",
              "--only",
              "producer,writers,limits,drain,ordered,roundtrips,sustained,kafka",
              // MariaDB commits slowly under CI: a small ordered backlog keeps it to seconds.
              "--ordered-backlog",
              "500"
            },
            env,
            out);
    String printed = bytes.toString(StandardCharsets.UTF_8);
    System.out.println(printed);

    assertEquals(0, status, "the benchmark failed; its output is above");
    Map<String, Double> values = machineLines(printed);
    for (String figure :
        List.of(
            "producer.outbox_publish",
            "producer.batched_insert",
            "writers.insert.t32",
            "writers.outbox.t32",
            "ratio.writers.outbox_over_insert.t32",
            "limit.lease.p1",
            "limit.delete.p1",
            "drain.p1",
            "drain.p4",
            "drain.row.p4",
            "drain.lock.p1",
            "ratio.drain_lock_over_delete.p1",
            "ratio.drain_lock_over_row.p1",
            "roundtrips.batch.before",
            "roundtrips.batch.autocommit_on",
            "roundtrips.batch.autocommit_off",
            "ratio.drain_over_lease.p1",
            "ordered.unordered.publish",
            "ordered.many.publish",
            "ordered.unordered.drain.p2",
            "ordered.many.drain.p2",
            "ordered.hot.drain.p2",
            "ordered.hot_per_key.drain.p2",
            "ratio.ordered.many_over_unordered",
            "ratio.ordered.hot_over_unordered",
            "ratio.ordered.publish.many_over_unordered",
            "sustained.r500.achieved",
            "sustained.r500.p99",
            "sustained.r2000.achieved",
            "sustained.r2000.table_kib",
            "kafka.plain",
            "kafka.drain.p1",
            "kafka.drain.p2",
            "kafka.noop_drain.p1",
            "ratio.kafka.drain_over_plain.p1",
            "ratio.kafka.drain_over_noop.p2")) {
      assertTrue(values.containsKey(figure), figure + " is missing from the output");
      assertTrue(values.get(figure) > 0, figure + " is " + values.get(figure) + ", not positive");
    }
  }

  private static Map<String, Double> machineLines(String printed) {
    Map<String, Double> values = new HashMap<>();
    for (String line : printed.split("\\R")) {
      int eq = line.indexOf('=');
      if (eq > 0 && !line.contains(" ")) {
        try {
          values.put(line.substring(0, eq), Double.parseDouble(line.substring(eq + 1)));
        } catch (NumberFormatException e) {
          // not a figure line
        }
      }
    }
    return values;
  }
}
