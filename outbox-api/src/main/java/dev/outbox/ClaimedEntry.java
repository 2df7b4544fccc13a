package dev.outbox;

import java.time.Instant;
import java.util.Objects;

/**
 * An outbox entry that a processor holds a claim (a lease) on and is about to publish.
 *
 * @param id the entry's stable, unique id, assigned by the storage when the message was written;
 *     consumers can deduplicate redeliveries by it
 * @param message the message as it was written
 * @param createdAt when the message was written, by the writer's {@link Clock}
 * @param attempts how many publish attempts of this entry have failed before this one
 */
public record ClaimedEntry(long id, Message message, Instant createdAt, int attempts) {

  /** Checks the fields. */
  public ClaimedEntry {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(createdAt, "createdAt");
    if (attempts < 0) {
      throw new IllegalArgumentException("attempts must be >= 0, was " + attempts);
    }
  }
}
