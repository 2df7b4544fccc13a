package dev.outbox;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * The optional capability of a {@link ProcessorStorage} that keeps dead letters: entries that
 * failed {@code maxAttempts} times or failed permanently. An {@link Outbox} over a storage that
 * implements it dead-letters such entries and offers {@link Outbox#deadLetters()}; over one that
 * does not, it retries every entry until it is published and refuses a {@code maxAttempts} limit.
 */
public interface DeadLetterStorage {

  /**
   * Moves entries that still carry this claim token to the dead-letter store, with their attempt
   * count and last error, in one transaction (an entry leaves the outbox only if it lands there).
   *
   * @param now the time recorded as the dead-lettering time
   * @return how many entries were moved
   */
  int deadLetter(UUID claimToken, List<FailedEntry> failures, Instant now);

  /**
   * Lists dead letters with an id greater than {@code afterId}, smallest id first.
   *
   * @param afterId 0 for the first page, else the last id of the previous page
   * @param limit the most to return, {@code >= 1}
   */
  List<DeadLetter> deadLetters(long afterId, int limit);

  /**
   * Moves dead letters back into the outbox with their attempts reset to 0, available at once,
   * keeping their ids and message ids. Ids that are not dead letters are ignored.
   *
   * @param now the current time, for storages that record it
   * @return how many entries were requeued
   */
  int requeueDeadLetters(Collection<Long> ids, Instant now);

  /** Moves every dead letter back into the outbox; see {@link #requeueDeadLetters}. */
  int requeueAllDeadLetters(Instant now);

  /**
   * Deletes dead letters for good. Ids that are not dead letters are ignored.
   *
   * @return how many were deleted
   */
  int purgeDeadLetters(Collection<Long> ids);

  /** Deletes every dead letter for good and returns how many there were. */
  int purgeAllDeadLetters();

  /**
   * For a {@link Ordering#BY_KEY_BLOCKING} storage: the keys that dead letters hold back, ordered
   * by their smallest dead letter's id, at most {@code limit}. Other storages return an empty list
   * (the default).
   */
  default List<BlockedKey> blockedKeys(int limit) {
    return List.of();
  }
}
