package dev.outbox;

import java.time.Duration;
import java.util.List;

/**
 * Hears what the processor does, for metrics and logs, without the core depending on a metrics
 * library. Every method has a no-op default; implement only what you need.
 *
 * <p>Methods are called on the processing thread (or the thread calling {@link Outbox#pumpOutbox()}
 * or {@link Outbox#publish}); keep them fast and never throw. An exception thrown by a listener is
 * logged and otherwise ignored: it never changes what happens to an entry.
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
   * A pass of the processing loop failed (storage unreachable, a publisher that threw): the loop
   * backs off for {@code backoff} and tries again.
   */
  default void onPumpError(Throwable error, Duration backoff) {}
}
