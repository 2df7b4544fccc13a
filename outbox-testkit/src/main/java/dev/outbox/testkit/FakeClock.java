package dev.outbox.testkit;

import dev.outbox.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link Clock} that stands still until a test moves it. Waits created with {@link #after}
 * complete when {@link #advance} or {@link #set} moves the time to or past their deadline, in
 * deadline order, on the thread that moved the clock: tests never sleep.
 *
 * <p>To drive a background loop deterministically, wait until it is waiting ({@link
 * #awaitWaiters(int, Duration)}), then advance.
 *
 * <p>Thread-safe.
 */
public final class FakeClock implements Clock {

  /** Where a {@code new FakeClock()} starts: 2026-01-01T00:00:00Z. */
  public static final Instant DEFAULT_START = Instant.parse("2026-01-01T00:00:00Z");

  private record Waiter(Instant deadline, long seq, CompletableFuture<Void> future) {}

  private final PriorityQueue<Waiter> waiters =
      new PriorityQueue<>(Comparator.comparing(Waiter::deadline).thenComparingLong(Waiter::seq));
  private Instant now;
  private long seq;

  /** A clock at {@link #DEFAULT_START}. */
  public FakeClock() {
    this(DEFAULT_START);
  }

  /** A clock at the given time. */
  public FakeClock(Instant start) {
    this.now = start;
  }

  @Override
  public synchronized Instant now() {
    return now;
  }

  @Override
  public CompletableFuture<Void> after(Duration delay) {
    CompletableFuture<Void> future = new CompletableFuture<>();
    if (delay.isZero() || delay.isNegative()) {
      future.complete(null);
      return future;
    }
    Waiter w;
    synchronized (this) {
      w = new Waiter(now.plus(delay), seq++, future);
      waiters.add(w);
      notifyAll();
    }
    future.whenComplete(
        (r, e) -> {
          synchronized (this) {
            waiters.remove(w);
            notifyAll();
          }
        });
    return future;
  }

  /** Moves the time forward and completes every wait that is due, oldest deadline first. */
  public void advance(Duration by) {
    if (by.isNegative()) {
      throw new IllegalArgumentException("a FakeClock does not go backwards: " + by);
    }
    List<Waiter> due = new ArrayList<>();
    synchronized (this) {
      now = now.plus(by);
      while (!waiters.isEmpty() && !waiters.peek().deadline().isAfter(now)) {
        due.add(waiters.poll());
      }
      notifyAll();
    }
    for (Waiter w : due) {
      w.future().complete(null);
    }
  }

  /** Moves the time forward to {@code time}; see {@link #advance}. */
  public void set(Instant time) {
    Duration by;
    synchronized (this) {
      by = Duration.between(now, time);
    }
    advance(by);
  }

  /** How many waits are pending. */
  public synchronized int waiters() {
    return waiters.size();
  }

  /** The earliest pending wait's deadline, or {@code null} when none is pending. */
  public synchronized Instant nextDeadline() {
    Waiter w = waiters.peek();
    return w == null ? null : w.deadline();
  }

  /**
   * Blocks (in real time, at most {@code timeout}) until at least {@code count} waits are pending.
   *
   * @throws AssertionError when they are not pending in time
   */
  public synchronized void awaitWaiters(int count, Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    while (waiters.size() < count) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "expected "
                + count
                + " pending waits within "
                + timeout
                + " but saw "
                + waiters.size());
      }
      try {
        wait(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for waits", e);
      }
    }
  }

  @Override
  public synchronized String toString() {
    return "FakeClock{now=" + now + ", waiters=" + waiters.size() + "}";
  }
}
