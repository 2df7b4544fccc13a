package dev.outbox.jdbc;

/**
 * How a {@link JdbcStorage} holds the entries it claimed while they are being published.
 *
 * <ul>
 *   <li>{@link #ROW} (the default): the claim writes a lease into each row ({@code claim_token},
 *       {@code processor_id}, {@code available_at} = the claim's deadline) in a statement that
 *       commits at once. A crashed processor's entries are claimable again when the deadline
 *       passes. Costs an {@code UPDATE} per entry (a new row version, index and WAL/redo writes)
 *       before the {@code DELETE}.
 *   <li>{@link #LOCK}: the claim is a {@code SELECT ... FOR UPDATE SKIP LOCKED} in a transaction
 *       that stays open while the entries are published; the row locks are the lease. The published
 *       entries are deleted and that transaction commits: no write before the {@code DELETE}. A
 *       crashed processor's transaction rolls back when its connection dies, and its entries are
 *       claimable at once, with no claim duration to wait. Each claim in flight holds one
 *       connection of the pool, and a transaction stays open at most {@link
 *       JdbcStorage.Builder#lockHoldLimit lockHoldLimit} (or until the outbox's first lease
 *       renewal, half the claim duration, whichever comes first): then the claim is converted into
 *       an ordinary row lease and the transaction commits.
 * </ul>
 */
public enum LeaseMode {
  /** The lease is written into the rows (an {@code UPDATE} per claim). */
  ROW,
  /** The lease is the row locks of a transaction held open while publishing. */
  LOCK
}
