package dev.outbox;

import java.time.Duration;
import java.util.List;

/**
 * Hears what the processor does, for metrics and logs, without the core depending on a metrics
 * library. Every method has a no-op default; implement only what you need. An outbox takes any
 * number of listeners ({@link Outbox.Builder#listener} adds one each time it is called), and every
 * listener hears every event: metrics, tracing and your own logging never wrap each other.
 *
 * <p>Methods are called on the processing thread (or the thread calling {@link Outbox#pumpOutbox()}
 * or {@link Outbox#publish}); keep them fast. Anything a listener throws is logged and otherwise
 * ignored: it never changes what happens to an entry.
 */
public interface OutboxListener {

  /** A listener that does nothing. */
  OutboxListener NOOP = new OutboxListener() {};

  /** Messages were written to the outbox (before the caller's transaction committed). */
  default void onWritten(List<Message> messages) {}

  /** Entries were accepted by the publisher and are about to be deleted. */
  default void onPublished(List<ClaimedEntry> entries) {}

  /** An entry's publish attempt failed and it will be retried at {@code failure.retryAt()}. */
  default void onFailed(ClaimedEntry entry, FailedEntry failure, Throwable cause) {}

  /** An entry was moved to the dead letters. */
  default void onDeadLettered(ClaimedEntry entry, FailedEntry failure, Throwable cause) {}

  /**
   * The publisher delivered nothing of a batch (it threw, timed out, or failed every entry
   * retryably): a suspected broker outage. The entries were given back without being charged an
   * attempt, and the loop backs off.
   */
  default void onReleased(List<ClaimedEntry> entries, Throwable cause) {}

  /**
   * A batch was processed.
   *
   * @param claimed entries claimed
   * @param published entries published and deleted
   * @param failed entries that failed and will be retried
   * @param deadLettered entries moved to the dead letters
   * @param took how long the batch took on the outbox's clock, claim to delete
   */
  default void onBatch(int claimed, int published, int failed, int deadLettered, Duration took) {}

  /** A claim was renewed for entries whose publishing outlived part of their lease. */
  default void onLeaseRenewed(int requested, int renewed) {}

  /**
   * A pass of the processing loop failed (storage unreachable, a broker outage, anything thrown):
   * the loop backs off for {@code backoff} and tries again.
   */
  default void onPumpError(Throwable error, Duration backoff) {}

  /**
   * The loop stopped on its own because of {@code cause} (a {@link VirtualMachineError} such as
   * {@link OutOfMemoryError}); this outbox publishes nothing more until it is rebuilt. {@link
   * Outbox#health()} says so too.
   */
  default void onLoopStopped(Throwable cause) {}
}
