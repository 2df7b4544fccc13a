package dev.outbox.postgres;

import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends {@code NOTIFY channel} on a connection of its own, off the application's commit path, at
 * most twice per burst of publishes: once {@code delay} after the first publish of a burst, and
 * once more {@code 10 × delay} after it, for the transactions that had not committed yet when the
 * first went out. Any number of publishes in between share those two notifications.
 *
 * <p>Why not {@code pg_notify} in the caller's transaction: PostgreSQL serializes the commits of
 * every transaction that notified on one cluster-wide lock, so with many writers one notification
 * per transaction caps the application's commit rate. Here at most {@code 1/delay + 1/(10 × delay)}
 * transactions a second notify (220 with the default 5 ms), each on one short transaction of its
 * own.
 *
 * <p>Best effort: a failed notification is logged and dropped; the outboxes' {@code
 * processInterval} still finds the entries. Its one daemon thread ends after a minute without
 * publishes and is made again by the next.
 */
final class CoalescingNotifier {

  private static final Logger log = LoggerFactory.getLogger(CoalescingNotifier.class);

  /** The follow-up notification comes this many delays after the first publish of a burst. */
  static final int FOLLOW_UP_FACTOR = 10;

  private final Jdbi jdbi;
  private final String channel;
  private final long delayNanos;
  private final AtomicBoolean firstPending = new AtomicBoolean();
  private final AtomicBoolean followUpPending = new AtomicBoolean();
  private final AtomicLong sent = new AtomicLong();
  private final ScheduledThreadPoolExecutor timer;

  CoalescingNotifier(Jdbi jdbi, String channel, Duration delay) {
    this.jdbi = jdbi;
    this.channel = channel;
    this.delayNanos = delay.toNanos();
    this.timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "outbox-notify-" + channel);
              t.setDaemon(true);
              return t;
            });
    timer.setKeepAliveTime(1, TimeUnit.MINUTES);
    timer.allowCoreThreadTimeOut(true);
    timer.setRemoveOnCancelPolicy(true);
  }

  /** Called after each publish: makes sure a notification follows soon, and one more later. */
  void published() {
    if (firstPending.compareAndSet(false, true)) {
      timer.schedule(() -> send(firstPending), delayNanos, TimeUnit.NANOSECONDS);
    }
    if (followUpPending.compareAndSet(false, true)) {
      timer.schedule(
          () -> send(followUpPending), delayNanos * FOLLOW_UP_FACTOR, TimeUnit.NANOSECONDS);
    }
  }

  /** How many notifications were sent; for tests and metrics. */
  long sent() {
    return sent.get();
  }

  private void send(AtomicBoolean pending) {
    // Cleared before sending: a publish during the send schedules the next notification.
    pending.set(false);
    try {
      jdbi.useTransaction(
          h -> h.select("SELECT pg_notify(?, '')", channel).mapTo(String.class).findOne());
      sent.incrementAndGet();
    } catch (RuntimeException e) {
      log.warn(
          "NOTIFY {} failed; outboxes find the entries at their next processInterval", channel, e);
    }
  }
}
