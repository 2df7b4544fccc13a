package dev.outbox;

import java.time.Instant;
import java.util.Objects;

/**
 * What the processor tells a {@link ProcessorStorage} about an entry whose publishing failed.
 *
 * @param id the entry's id
 * @param attempts the entry's new attempt count, failures included ({@code >= 1})
 * @param retryAt when the entry may be claimed again; ignored when the entry is dead-lettered
 * @param error a description of the failure, at most {@value #MAX_ERROR_LENGTH} characters
 */
public record FailedEntry(long id, int attempts, Instant retryAt, String error) {

  /** The longest error text a storage must keep; longer texts are shortened by the processor. */
  public static final int MAX_ERROR_LENGTH = 2000;

  /** Checks the fields. */
  public FailedEntry {
    Objects.requireNonNull(retryAt, "retryAt");
    Objects.requireNonNull(error, "error");
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be >= 1, was " + attempts);
    }
    if (error.length() > MAX_ERROR_LENGTH) {
      throw new IllegalArgumentException(
          "error is " + error.length() + " characters; the limit is " + MAX_ERROR_LENGTH);
    }
  }
}
