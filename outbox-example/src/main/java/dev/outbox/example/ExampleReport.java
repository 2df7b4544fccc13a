package dev.outbox.example;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the example saw, and whether it proves the outbox right: nothing committed missing, nothing
 * rolled back delivered.
 */
record ExampleReport(
    int committed,
    int rolledBack,
    int producerFailures,
    long published,
    int consumed,
    int duplicates,
    int leaked,
    int missing,
    double ordersPerSecond,
    double latencyP50Millis,
    double latencyP99Millis) {

  boolean ok() {
    return missing == 0 && leaked == 0 && producerFailures == 0;
  }

  static ExampleReport of(
      Map<Long, Long> committedAt,
      Set<Long> rolledBack,
      int producerFailures,
      long published,
      Map<Long, Long> consumedAt,
      int duplicates,
      long startNanos) {
    int leaked = 0;
    for (Long id : rolledBack) {
      if (consumedAt.containsKey(id)) {
        leaked++;
      }
    }
    int missing = 0;
    List<Double> latencies = new ArrayList<>(committedAt.size());
    long last = startNanos;
    for (Map.Entry<Long, Long> c : committedAt.entrySet()) {
      Long consumed = consumedAt.get(c.getKey());
      if (consumed == null) {
        missing++;
      } else {
        // The consumer can see a message before the producer thread notes its commit time.
        latencies.add(Math.max(0, consumed - c.getValue()) / 1e6);
        last = Math.max(last, consumed);
      }
    }
    Collections.sort(latencies);
    double seconds = Math.max(1e-9, (last - startNanos) / 1e9);
    return new ExampleReport(
        committedAt.size(),
        rolledBack.size(),
        producerFailures,
        published,
        consumedAt.size(),
        duplicates,
        leaked,
        missing,
        committedAt.size() / seconds,
        percentile(latencies, 0.50),
        percentile(latencies, 0.99));
  }

  private static double percentile(List<Double> sorted, double p) {
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(p * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }

  void print(PrintStream out) {
    out.println();
    out.println("=== report ===");
    out.printf("committed orders            %d%n", committed);
    out.printf("rolled back on purpose      %d%n", rolledBack);
    out.printf("published by the outbox     %d%n", published);
    out.printf(
        "consumed from the queue     %d distinct, %d duplicate deliveries%n", consumed, duplicates);
    out.printf(
        "throughput                  %.0f orders/s (first order to last consumed)%n",
        ordersPerSecond);
    out.printf(
        "commit-to-consume latency   p50 %.1f ms, p99 %.1f ms%n",
        latencyP50Millis, latencyP99Millis);
    out.printf("leaked (rolled back, yet delivered)   %d   (must be 0)%n", leaked);
    out.printf("missing (committed, never delivered)  %d   (must be 0)%n", missing);
    if (producerFailures > 0) {
      out.printf("producer transactions that failed     %d   (must be 0)%n", producerFailures);
    }
    out.println(ok() ? "RESULT: OK" : "RESULT: FAILED");
  }
}
