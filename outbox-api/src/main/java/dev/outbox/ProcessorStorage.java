package dev.outbox;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * Where outbox entries live: the database adapter's side of the outbox. This is the mandatory part,
 * five methods; a storage that also keeps dead letters implements {@link DeadLetterStorage}, one
 * that can count its backlog cheaply implements {@link StatisticsStorage}. The core discovers those
 * by type ({@code instanceof}), never by catching an exception.
 *
 * <p>{@code T} is the caller's transaction handle (a JDBC {@code Connection}, a Jdbi {@code
 * Handle}, ...). {@link #publish} writes inside that transaction, so a message exists exactly when
 * the caller's business data does. Every other method runs in the storage's own transactions, which
 * it commits itself whatever the connection pool's auto-commit default is.
 *
 * <h2>The lease model</h2>
 *
 * Every entry has an <em>available-at</em> time. A fresh entry is available as soon as the caller's
 * transaction commits, whatever any clock says (a storage keeps a value that is before every real
 * time, such as the epoch, or none). A claim makes an entry available again only at the claim's
 * deadline, so nobody else can claim it until the lease expires; a {@link #release} makes it
 * available at its retry time.
 *
 * <h2>Fencing</h2>
 *
 * Every claim carries a {@link ClaimRequest#claimToken() token} unique to that claim. Every method
 * that changes claimed entries ({@link #delete}, {@link #renew}, {@link #release}, {@link
 * DeadLetterStorage#deadLetter}) takes the token and must change only entries that still carry it.
 * A processor whose lease expired and was taken over, or another outbox that happens to share its
 * processor id, can then cause at most a duplicate delivery, never a wrong change of state.
 *
 * <h2>Time</h2>
 *
 * Lease and retry instants are passed in by the caller, from the outbox's {@link Clock}; an
 * implementation never reads its own clock for them. That keeps the lease model testable with a
 * fake clock. Fresh entries do not depend on any clock (above).
 *
 * <h2>Threads</h2>
 *
 * Implementations must be safe for concurrent use by several processors (threads, or processes
 * sharing a database). Failures are reported as {@link OutboxException} (or a subclass); an
 * implementation retries transient conflicts such as deadlocks itself.
 *
 * <h2>Ordering</h2>
 *
 * A storage whose {@link #ordering()} is {@link Ordering#BY_KEY} or {@link
 * Ordering#BY_KEY_BLOCKING} keeps each key's messages in order (see {@link Ordering} for the
 * guarantee): {@link #publish} takes a lock per key inside the caller's transaction before it draws
 * ids, so a key's id order is its commit order; {@link #claim} hands out an entry of a key only
 * when no entry of that key with a smaller id is left in the outbox (in the blocking mode: nor
 * among the dead letters), together with at most {@link ClaimRequest#maxPerKey()} consecutive
 * entries of that key.
 *
 * <h2>After a claim</h2>
 *
 * The core calls {@link #finish} once per claim, after it recorded the fate of every entry (or gave
 * up trying). A storage that holds something per claim, such as an open transaction whose row locks
 * are the lease, commits or frees it there.
 *
 * <p>Every implementation should pass the testkit's {@code ProcessorStorageContract}.
 *
 * @param <T> the caller's transaction handle
 */
public interface ProcessorStorage<T> {

  /**
   * Writes entries inside the caller's transaction, in list order (the first gets the smallest id).
   * Nothing becomes visible to {@link #claim} before the caller's transaction commits, and nothing
   * of a rolled-back transaction ever does. Every byte, character and header is stored exactly; a
   * value the storage cannot keep exactly is refused with an exception, never altered.
   *
   * @param txn the caller's open transaction
   * @param entries the entries, already validated by the outbox; never empty
   * @throws IllegalStateException when {@code txn} is not inside a transaction, if the
   *     implementation can tell
   */
  void publish(T txn, List<NewEntry> entries);

  /**
   * Claims at most {@link ClaimRequest#limit()} available entries for the request's token until its
   * deadline and returns them oldest (smallest id) first.
   *
   * <p>Concurrent callers must never receive the same entry while its claim is unexpired; an
   * implementation should skip entries another caller is claiming right now rather than wait for
   * them.
   *
   * @return the claimed entries, oldest first; empty when nothing is available
   */
  List<ClaimedEntry> claim(ClaimRequest request);

  /**
   * Deletes published entries that still carry this claim token.
   *
   * @return how many entries were deleted; fewer than asked when some claims were lost
   */
  int delete(UUID claimToken, Collection<Long> ids);

  /**
   * Extends the claim on entries that still carry this token, for a batch whose publishing takes
   * longer than part of its lease.
   *
   * @return how many entries were renewed; fewer than asked when some claims were lost
   */
  int renew(UUID claimToken, Collection<Long> ids, Instant deadline);

  /**
   * Gives back entries that still carry this claim token, unpublished: sets each entry's attempt
   * count and last error, clears the claim and makes the entry available again at its {@link
   * FailedEntry#retryAt()}.
   *
   * @return how many entries were updated
   */
  int release(UUID claimToken, List<FailedEntry> failures);

  /**
   * Whether this storage keeps each key's messages in order; {@link Ordering#NONE} by default. It
   * must not change over the storage's life.
   */
  default Ordering ordering() {
    return Ordering.NONE;
  }

  /**
   * Ends a claim: called once for every non-empty claim, after {@link #delete}, {@link #release}
   * and {@link DeadLetterStorage#deadLetter} for its entries were called (or one of them failed).
   * The default does nothing; a storage that holds resources per claim frees them here. Must not
   * throw for a token it does not know.
   */
  default void finish(UUID claimToken) {}
}
