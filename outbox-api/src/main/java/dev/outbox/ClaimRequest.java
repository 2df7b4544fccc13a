package dev.outbox;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * What {@link ProcessorStorage#claim} is asked to do.
 *
 * <p>Built by the core only; storages read it. New components may be added in later versions, which
 * does not break a storage that reads the ones it knows.
 *
 * @param processorId who claims; recorded for operators, never used for fencing
 * @param claimToken unique to this one claim: every later change to the claimed entries ({@link
 *     ProcessorStorage#delete}, {@link ProcessorStorage#renew}, {@link ProcessorStorage#release},
 *     {@link DeadLetterStorage#deadLetter}) names it, and must change only entries that still carry
 *     it
 * @param now the claimer's current time: entries whose lease or retry time is not after it are
 *     available; fresh entries are available whatever it says
 * @param deadline when the claim expires; after {@code now}
 * @param limit the most entries to claim, {@code >= 1}
 * @param maxPerKey for a storage that keeps keys in order ({@link ProcessorStorage#ordering()}):
 *     the most consecutive entries of one key to claim at once, {@code 1 <= maxPerKey <= limit}; 1
 *     when the publisher does not {@link Publisher#keepsOrder() keep order} within a call. Other
 *     storages ignore it.
 */
public record ClaimRequest(
    String processorId, UUID claimToken, Instant now, Instant deadline, int limit, int maxPerKey) {

  /** A request whose {@code maxPerKey} is its {@code limit}. */
  public ClaimRequest(
      String processorId, UUID claimToken, Instant now, Instant deadline, int limit) {
    this(processorId, claimToken, now, deadline, limit, limit);
  }

  /** Checks the fields. */
  public ClaimRequest {
    Objects.requireNonNull(processorId, "processorId");
    Objects.requireNonNull(claimToken, "claimToken");
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(deadline, "deadline");
    if (!deadline.isAfter(now)) {
      throw new IllegalArgumentException("deadline " + deadline + " is not after now " + now);
    }
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1, was " + limit);
    }
    if (maxPerKey < 1 || maxPerKey > limit) {
      throw new IllegalArgumentException(
          "maxPerKey must be 1 to limit (" + limit + "), was " + maxPerKey);
    }
  }
}
