package dev.outbox;

import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * Where outbox entries live: the database adapter's side of the outbox.
 *
 * <p>{@code T} is the caller's transaction handle (a Jdbi {@code Handle}, a JDBC {@code
 * Connection}, ...). {@link #publish} writes inside that transaction, so a message exists exactly
 * when the caller's business data does. Every other method runs in the storage's own transactions.
 *
 * <h2>The lease model</h2>
 *
 * Every entry has an <em>available-at</em> time. An entry may be claimed when its available-at is
 * not after {@code now}. A claim sets the entry's processor id and moves its available-at to the
 * claim's deadline, so nobody else can claim it until the lease expires. A failure clears the
 * processor id and moves available-at to the retry time. A fresh entry is available at once.
 *
 * <h2>Fencing</h2>
 *
 * Every method that changes claimed entries ({@link #delete}, {@link #renew}, {@link #fail}, {@link
 * #deadLetter}) takes the processor id and must change only entries still claimed by that
 * processor. A processor whose lease expired and was taken over must not delete or change the
 * entries its successor now owns.
 *
 * <h2>Time</h2>
 *
 * Every instant is passed in by the caller, from the outbox's {@link Clock}; an implementation
 * never reads its own clock for lease decisions. That keeps the lease model testable with a fake
 * clock; in production, the processors' clocks must agree to well within the claim duration.
 *
 * <h2>Threads</h2>
 *
 * Implementations must be safe for concurrent use by several processors (threads, or processes
 * sharing a database). Failures are reported as {@link OutboxException} (or a subclass); an
 * implementation retries transient conflicts such as deadlocks itself.
 *
 * <p>Every implementation should pass the testkit's {@code ProcessorStorageContract}.
 *
 * @param <T> the caller's transaction handle
 */
public interface ProcessorStorage<T> {

  /**
   * Writes messages inside the caller's transaction, in list order (the first message gets the
   * smallest id). Nothing becomes visible to {@link #claim} before the caller's transaction
   * commits, and nothing of a rolled-back transaction ever does.
   *
   * @param txn the caller's open transaction
   * @param now the writer's clock; the entries' creation time, and the time they become available
   * @param messages the messages, already validated by the outbox; never empty
   * @throws IllegalStateException when {@code txn} is not inside a transaction, if the
   *     implementation can tell
   */
  void publish(T txn, Instant now, List<Message> messages);

  /**
   * Claims at most {@code limit} available entries ({@code availableAt <= now}) for the processor
   * until {@code deadline} and returns them oldest (smallest id) first.
   *
   * <p>Concurrent callers must never receive the same entry while its claim is unexpired; an
   * implementation should skip entries another caller is claiming right now rather than wait for
   * them.
   *
   * @param processorId who claims
   * @param now the current time
   * @param deadline when the claim expires; after {@code now}
   * @param limit the most entries to claim, {@code >= 1}
   * @return the claimed entries, oldest first; empty when nothing is available
   */
  List<ClaimedEntry> claim(String processorId, Instant now, Instant deadline, int limit);

  /**
   * Deletes published entries that are still claimed by this processor.
   *
   * @return how many entries were deleted; fewer than asked when some claims were lost
   */
  int delete(String processorId, Collection<Long> ids);

  /**
   * Extends this processor's claim on entries it still holds, for a batch whose publishing takes
   * longer than part of its lease. A {@code deadline} of {@code now} releases the entries.
   *
   * @return how many entries were renewed; fewer than asked when some claims were lost
   */
  int renew(String processorId, Collection<Long> ids, Instant deadline);

  /**
   * Records failed publish attempts of entries still claimed by this processor: sets each entry's
   * attempt count and last error, releases the claim and makes the entry available again at its
   * {@link FailedEntry#retryAt()}.
   *
   * @return how many entries were updated
   */
  int fail(String processorId, List<FailedEntry> failures);

  /**
   * Whether this storage keeps dead letters. When {@code false}, {@link #deadLetter} and the
   * dead-letter administration methods throw {@link UnsupportedOperationException}, and an {@link
   * Outbox} over it refuses a {@code maxAttempts} limit.
   */
  default boolean supportsDeadLetters() {
    return false;
  }

  /**
   * Moves entries still claimed by this processor to the dead-letter store, with their attempt
   * count and last error, in one transaction.
   *
   * @param now the time recorded as the dead-lettering time
   * @return how many entries were moved
   */
  default int deadLetter(String processorId, List<FailedEntry> failures, Instant now) {
    throw new UnsupportedOperationException(getClass().getName() + " keeps no dead letters");
  }

  /**
   * Lists dead letters with an id greater than {@code afterId}, smallest id first.
   *
   * @param afterId 0 for the first page, else the last id of the previous page
   * @param limit the most to return, {@code >= 1}
   */
  default List<DeadLetter> deadLetters(long afterId, int limit) {
    throw new UnsupportedOperationException(getClass().getName() + " keeps no dead letters");
  }

  /**
   * Moves dead letters back into the outbox with their attempts reset to 0, available at {@code
   * now}, keeping their ids. Ids that are not dead letters are ignored.
   *
   * @return how many entries were requeued
   */
  default int requeueDeadLetters(Collection<Long> ids, Instant now) {
    throw new UnsupportedOperationException(getClass().getName() + " keeps no dead letters");
  }

  /** Moves every dead letter back into the outbox; see {@link #requeueDeadLetters}. */
  default int requeueAllDeadLetters(Instant now) {
    throw new UnsupportedOperationException(getClass().getName() + " keeps no dead letters");
  }

  /**
   * Deletes dead letters for good. Ids that are not dead letters are ignored.
   *
   * @return how many were deleted
   */
  default int purgeDeadLetters(Collection<Long> ids) {
    throw new UnsupportedOperationException(getClass().getName() + " keeps no dead letters");
  }

  /** Deletes every dead letter for good and returns how many there were. */
  default int purgeAllDeadLetters() {
    throw new UnsupportedOperationException(getClass().getName() + " keeps no dead letters");
  }

  /**
   * Counts the backlog; see {@link OutboxStats} for each figure's meaning. Must be cheap enough to
   * call every few seconds on a large backlog.
   *
   * @param now the time claims and ages are measured against
   */
  default OutboxStats stats(Instant now) {
    throw new UnsupportedOperationException(getClass().getName() + " keeps no statistics");
  }
}
