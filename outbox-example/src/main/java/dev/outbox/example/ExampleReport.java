package dev.outbox.example;

import dev.outbox.DeadLetter;
import dev.outbox.OutboxStats;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the example saw, and whether it proves the outbox right: nothing committed missing, nothing
 * rolled back delivered, the poison messages dead-lettered and nothing else left behind.
 *
 * @param committed orders committed
 * @param rolledBack orders rolled back on purpose
 * @param producerFailures order transactions that failed (must be 0)
 * @param published messages the publisher accepted, as the outbox's listener counted them
 * @param consumed distinct orders the consumer received
 * @param duplicates deliveries of a message id already received (at-least-once)
 * @param leaked rolled-back orders that were delivered (must be 0)
 * @param missing committed orders never delivered (must be 0)
 * @param ordersPerSecond committed orders over the time from the first order to the last receipt
 * @param handoff commit-to-handoff latency: commit returned to the outbox handing the message to
 *     the publisher (wake-up, claim, and waiting for the processor's previous batch)
 * @param outbox commit-to-published latency: commit returned to the publisher's acceptance (the
 *     outbox's own share)
 * @param endToEnd commit-to-consume latency: commit returned to the consumer's receipt (the outbox
 *     plus the queue)
 * @param stats the outbox table's counts after the run
 * @param deadLetters the dead letters after the run
 * @param poisonExpected dead letters the run asked for on purpose
 * @param publishCalls how long the publisher's calls took (the broker accepting a batch)
 * @param publishCallSize the mean number of entries per publisher call
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
    Latency handoff,
    Latency outbox,
    Latency endToEnd,
    OutboxStats stats,
    List<DeadLetter> deadLetters,
    int poisonExpected,
    Latency publishCalls,
    double publishCallSize) {

  /**
   * Percentiles of a latency, in milliseconds; NaN when nothing was measured.
   *
   * @param p50 the median
   * @param p99 the 99th percentile
   * @param max the largest
   */
  record Latency(double p50, double p99, double max) {
    static Latency of(List<Double> millis) {
      List<Double> sorted = new ArrayList<>(millis);
      Collections.sort(sorted);
      return new Latency(
          percentile(sorted, 0.50),
          percentile(sorted, 0.99),
          sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() - 1));
    }

    @Override
    public String toString() {
      return String.format("p50 %.1f ms, p99 %.1f ms, max %.1f ms", p50, p99, max);
    }
  }

  boolean ok() {
    return missing == 0
        && leaked == 0
        && producerFailures == 0
        && deadLetters.size() == poisonExpected
        && stats.pending() == 0
        && stats.claimed() == 0
        && stats.failing() == 0;
  }

  static ExampleReport of(
      Map<Long, Long> committedAt,
      Set<Long> rolledBack,
      int producerFailures,
      long published,
      Map<Long, Long> handedAt,
      Map<Long, Long> publishedAt,
      Map<Long, Long> consumedAt,
      int duplicates,
      long startNanos,
      OutboxStats stats,
      List<DeadLetter> deadLetters,
      int poisonExpected,
      List<Double> publishCallMillis,
      double publishCallSize) {
    int leaked = 0;
    for (Long id : rolledBack) {
      if (consumedAt.containsKey(id)) {
        leaked++;
      }
    }
    int missing = 0;
    List<Double> handoff = new ArrayList<>(committedAt.size());
    List<Double> outbox = new ArrayList<>(committedAt.size());
    List<Double> endToEnd = new ArrayList<>(committedAt.size());
    long last = startNanos;
    for (Map.Entry<Long, Long> c : committedAt.entrySet()) {
      Long handed = handedAt.get(c.getKey());
      if (handed != null) {
        handoff.add(Math.max(0, handed - c.getValue()) / 1e6);
      }
      Long sent = publishedAt.get(c.getKey());
      if (sent != null) {
        // A processor can publish before the producer thread notes its commit time.
        outbox.add(Math.max(0, sent - c.getValue()) / 1e6);
      }
      Long consumed = consumedAt.get(c.getKey());
      if (consumed == null) {
        missing++;
      } else {
        endToEnd.add(Math.max(0, consumed - c.getValue()) / 1e6);
        last = Math.max(last, consumed);
      }
    }
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
        Latency.of(handoff),
        Latency.of(outbox),
        Latency.of(endToEnd),
        stats,
        List.copyOf(deadLetters),
        poisonExpected,
        Latency.of(publishCallMillis),
        publishCallSize);
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
    out.printf("commit-to-handoff latency   %s   (the outbox, up to the publisher)%n", handoff);
    out.printf("commit-to-publish latency   %s   (... and the broker accepting)%n", outbox);
    out.printf("commit-to-consume latency   %s   (... and the consumer receiving)%n", endToEnd);
    out.printf(
        "publisher calls             %s   (%.1f entries a call)%n", publishCalls, publishCallSize);
    out.printf(
        "outbox table after the run  pending %d, claimed %d, failing %d, dead letters %d%n",
        stats.pending(), stats.claimed(), stats.failing(), stats.deadLetters());
    out.printf(
        "dead letters                %d   (must be %d: the poison messages)%n",
        deadLetters.size(), poisonExpected);
    for (DeadLetter d : deadLetters.subList(0, Math.min(5, deadLetters.size()))) {
      out.printf(
          "  #%d %s, %d attempt(s): %s%n",
          d.id(), d.message().namespace(), d.attempts(), firstLine(d.lastError()));
    }
    out.printf("leaked (rolled back, yet delivered)   %d   (must be 0)%n", leaked);
    out.printf("missing (committed, never delivered)  %d   (must be 0)%n", missing);
    if (producerFailures > 0) {
      out.printf("producer transactions that failed     %d   (must be 0)%n", producerFailures);
    }
    out.println(ok() ? "RESULT: OK" : "RESULT: FAILED");
  }

  private static String firstLine(String text) {
    String line = text.lines().findFirst().orElse("");
    return line.length() <= 160 ? line : line.substring(0, 157) + "...";
  }
}
