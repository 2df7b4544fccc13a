package dev.outbox.benchmarks;

/**
 * One drain's outcome.
 *
 * @param rate messages per second
 * @param cpuMicros JVM CPU microseconds per message, all threads (NaN when unknown)
 * @param claimMillis milliseconds per claim call (the lease loop: the UPDATE; NaN for the delete
 *     loop, which has no claim)
 * @param deleteMillis milliseconds per delete call
 */
record DrainResult(double rate, double cpuMicros, double claimMillis, double deleteMillis) {

  /** From {@link Parallel#run}'s answer and the drain's timings. */
  static DrainResult of(long backlog, long[] run, Timings timings) {
    return new DrainResult(
        Bench.rate(backlog, run[0]),
        run[2] < 0 ? Double.NaN : run[2] / 1e3 / backlog,
        timings.claimMillis(),
        timings.deleteMillis());
  }
}
