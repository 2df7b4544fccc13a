package dev.outbox;

import java.time.Instant;
import java.util.Objects;

/**
 * An entry that failed too often, or failed permanently, and was moved out of the outbox so it no
 * longer takes a processor's time. {@link Outbox#deadLetters()} lists, requeues and purges them.
 *
 * @param id the entry's id, the same it had in the outbox
 * @param message the message as it was written
 * @param createdAt when the message was written
 * @param attempts how many publish attempts failed
 * @param lastError the last failure's description (exception class and message)
 * @param deadLetteredAt when the entry was moved
 */
public record DeadLetter(
    long id,
    Message message,
    Instant createdAt,
    int attempts,
    String lastError,
    Instant deadLetteredAt) {

  /** Checks the fields. */
  public DeadLetter {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(lastError, "lastError");
    Objects.requireNonNull(deadLetteredAt, "deadLetteredAt");
  }
}
