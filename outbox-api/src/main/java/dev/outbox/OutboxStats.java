package dev.outbox;

import java.time.Duration;
import java.util.Objects;

/**
 * A snapshot of an outbox's backlog, cheap enough to take every few seconds.
 *
 * @param pending entries in the outbox, not yet published (including claimed and failing ones)
 * @param claimed entries a processor holds an unexpired claim on right now
 * @param failing entries whose publishing failed at least once ({@code attempts > 0})
 * @param deadLetters entries moved to the dead-letter store
 * @param oldestPendingAge how long the oldest pending entry has waited; {@link Duration#ZERO} when
 *     nothing is pending
 */
public record OutboxStats(
    long pending, long claimed, long failing, long deadLetters, Duration oldestPendingAge) {

  /** Checks the fields. */
  public OutboxStats {
    Objects.requireNonNull(oldestPendingAge, "oldestPendingAge");
    if (oldestPendingAge.isNegative()) {
      // The writer's clock ran ahead of the reader's; an age below zero means nothing useful.
      oldestPendingAge = Duration.ZERO;
    }
  }
}
