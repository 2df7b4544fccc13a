package dev.outbox;

import java.time.Instant;
import java.util.Objects;

/**
 * What the processor tells a storage about a claimed entry it gives back unpublished: a failure to
 * record, or an entry released after an outage.
 *
 * <p>Built by the core only; storages read it.
 *
 * @param id the entry's id
 * @param attempts the entry's attempt count from now on ({@code >= 0}); unchanged from the claimed
 *     entry's when the failure is not charged (a broker outage), one more when it is
 * @param retryAt when the entry may be claimed again; ignored when the entry is dead-lettered
 * @param error a description of the failure, at most {@value #MAX_ERROR_LENGTH} characters, free of
 *     NUL characters and lone surrogates (so every storage can keep it as text)
 */
public record FailedEntry(long id, int attempts, Instant retryAt, String error) {

  /** The longest error text a storage must keep; longer texts are shortened by the processor. */
  public static final int MAX_ERROR_LENGTH = 2000;

  /** Checks the fields. */
  public FailedEntry {
    Objects.requireNonNull(retryAt, "retryAt");
    Objects.requireNonNull(error, "error");
    if (attempts < 0) {
      throw new IllegalArgumentException("attempts must be >= 0, was " + attempts);
    }
    if (error.length() > MAX_ERROR_LENGTH) {
      throw new IllegalArgumentException(
          "error is " + error.length() + " characters; the limit is " + MAX_ERROR_LENGTH);
    }
  }
}
