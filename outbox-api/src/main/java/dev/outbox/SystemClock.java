package dev.outbox;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Wall-clock time with one timer thread for {@link #after}. The shared {@link Clock#system()}
 * instance lets its thread end after a second without waits, so it pins nothing after the last
 * outbox closed; an {@link Outbox} on the default clock makes its own instance on its own thread
 * factory and shuts it down in {@code close()}. Internal.
 */
final class SystemClock implements Clock {

  static final SystemClock SHARED = new SystemClock(SystemClock::daemon);

  private final ScheduledThreadPoolExecutor timer;

  SystemClock(ThreadFactory threads) {
    timer = new ScheduledThreadPoolExecutor(1, threads);
    // A cancelled wait (the usual case: a wake-up came first) must not linger in the queue.
    timer.setRemoveOnCancelPolicy(true);
    timer.setKeepAliveTime(1, TimeUnit.SECONDS);
    timer.allowCoreThreadTimeOut(true);
  }

  private static Thread daemon(Runnable r) {
    Thread t = new Thread(r, "outbox-clock");
    t.setDaemon(true);
    return t;
  }

  @Override
  public Instant now() {
    return Instant.now();
  }

  @Override
  public CompletableFuture<Void> after(Duration delay) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (delay.isZero() || delay.isNegative()) {
      done.complete(null);
      return done;
    }
    ScheduledFuture<?> task =
        timer.schedule(() -> done.complete(null), delay.toNanos(), TimeUnit.NANOSECONDS);
    done.whenComplete((ignored, failure) -> task.cancel(false));
    return done;
  }

  /**
   * Ends the timer thread, waiting (at most a second) until it has; pending waits never complete.
   */
  void shutdown() {
    timer.shutdownNow();
    try {
      timer.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "Clock.system()";
  }
}
