package dev.outbox;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * A message on its way into the outbox, as the core hands it to {@link ProcessorStorage#publish}.
 *
 * <p>Built by the core only; storages read it. New components may be added in later versions, which
 * does not break a storage that reads the ones it knows.
 *
 * @param messageId the message's identity, unique beyond its table (a UUID version 7, so ids made
 *     later sort later); publishers send it as the deduplication id, consumers dedupe by it
 * @param message the message
 * @param createdAt when {@code Outbox.publish} was called, by the writer's {@link Clock}; kept for
 *     latency figures and statistics, never used to decide when the entry becomes available
 */
public record NewEntry(UUID messageId, Message message, Instant createdAt) {

  /** Checks the fields. */
  public NewEntry {
    Objects.requireNonNull(messageId, "messageId");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(createdAt, "createdAt");
  }
}
