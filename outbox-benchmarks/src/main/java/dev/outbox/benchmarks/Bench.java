package dev.outbox.benchmarks;

import java.util.SplittableRandom;

/** Small helpers shared by the benchmarks. */
final class Bench {

  private Bench() {}

  /**
   * A payload of {@code n} printable ASCII bytes from a fixed seed: the same bytes on every run,
   * usable as text (gruelbox's JSON) and as bytes (ours), and not trivially compressible.
   */
  static byte[] asciiPayload(int n) {
    SplittableRandom random = new SplittableRandom(42);
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) ('!' + random.nextInt(94));
    }
    return b;
  }

  /**
   * CPU time this JVM has used so far, all threads, in nanoseconds; -1 when the JVM cannot tell.
   * The drain figures use it to say whether the relay's Java side or the database is the
   * bottleneck.
   */
  static long cpuNanos() {
    java.lang.management.OperatingSystemMXBean os =
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getProcessCpuTime();
    }
    return -1;
  }

  /** Microseconds of JVM CPU per message between two {@link #cpuNanos()} readings. */
  static double cpuMicrosPerMessage(long before, long after, long messages) {
    return before < 0 || after < 0 ? Double.NaN : (after - before) / 1e3 / messages;
  }

  /** Messages per second. */
  static double rate(long messages, long nanos) {
    return messages / (nanos / 1e9);
  }
}
