package dev.outbox;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * The outbox's only source of time: every lease, backoff and wait in the core and in the adapters
 * goes through it, so a test can replace it with the testkit's {@code FakeClock} and never sleep.
 */
public interface Clock {

  /** The current time. */
  Instant now();

  /**
   * A future that completes once {@code delay} has passed on this clock (Go's {@code time.After}).
   * Cancelling the future releases whatever it holds; completing it early is allowed and simply
   * ends the wait. A zero or negative delay gives a completed future.
   */
  CompletableFuture<Void> after(Duration delay);

  /**
   * The wall clock, with one shared daemon timer thread for {@link #after} that ends after a second
   * without waits. An {@link Outbox} built with this clock (or none) uses a wall clock of its own
   * instead, whose thread comes from the outbox's thread factory and ends with {@code close()}.
   */
  static Clock system() {
    return SystemClock.SHARED;
  }
}
