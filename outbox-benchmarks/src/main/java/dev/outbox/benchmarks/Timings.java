package dev.outbox.benchmarks;

import java.util.concurrent.atomic.LongAdder;

/**
 * Where a drain's time goes: wall time spent in the claim statement(s) and in the delete statement,
 * summed over all threads, and the number of batches. The report turns them into milliseconds per
 * batch, which says which statement dominates.
 */
final class Timings {

  final LongAdder claimNanos = new LongAdder();
  final LongAdder deleteNanos = new LongAdder();
  final LongAdder claims = new LongAdder();
  final LongAdder deletes = new LongAdder();

  void claimed(long startNanos) {
    claimNanos.add(System.nanoTime() - startNanos);
    claims.increment();
  }

  void deleted(long startNanos) {
    deleteNanos.add(System.nanoTime() - startNanos);
    deletes.increment();
  }

  /** Milliseconds per claim call (including the empty one that ends each thread's drain). */
  double claimMillis() {
    return claims.sum() == 0 ? Double.NaN : claimNanos.sum() / 1e6 / claims.sum();
  }

  /** Milliseconds per delete call. */
  double deleteMillis() {
    return deletes.sum() == 0 ? Double.NaN : deleteNanos.sum() / 1e6 / deletes.sum();
  }
}
