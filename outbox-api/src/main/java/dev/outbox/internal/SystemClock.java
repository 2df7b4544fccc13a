package dev.outbox.internal;

import dev.outbox.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** {@link Clock#system()}: wall-clock time and one daemon timer thread. Internal. */
public final class SystemClock implements Clock {

  public static final SystemClock INSTANCE = new SystemClock();

  private final ScheduledThreadPoolExecutor timer;

  private SystemClock() {
    timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "outbox-clock");
              t.setDaemon(true);
              return t;
            });
    // A cancelled wait (the usual case: a wake-up came first) must not linger in the queue.
    timer.setRemoveOnCancelPolicy(true);
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

  @Override
  public String toString() {
    return "Clock.system()";
  }
}
