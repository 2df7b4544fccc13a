package dev.outbox;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Capped exponential backoff with jitter: the n-th wait is {@code initial * 2^(n-1)}, capped at
 * {@code max}, of which the fraction {@code jitter} is randomised downwards. Internal.
 */
final class Backoff {

  private final Duration initial;
  private final Duration max;
  private final double jitter;
  private final RandomGenerator random;

  Backoff(Duration initial, Duration max, double jitter, RandomGenerator random) {
    this.initial = initial;
    this.max = max;
    this.jitter = jitter;
    this.random = random;
  }

  /** The wait before attempt {@code n + 1}, after {@code n >= 1} failures. */
  Duration delay(int failures) {
    long initialNanos = initial.toNanos();
    long maxNanos = max.toNanos();
    long nanos = initialNanos;
    for (int i = 1; i < failures && nanos < maxNanos; i++) {
      nanos = nanos > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : nanos * 2;
    }
    nanos = Math.min(nanos, maxNanos);
    if (jitter > 0 && nanos > 0) {
      nanos -= (long) (nanos * jitter * random.nextDouble());
    }
    return Duration.ofNanos(nanos);
  }
}
