package dev.outbox;

import java.util.Arrays;
import java.util.List;

/**
 * Administration of an outbox's dead letters: entries that failed {@code maxAttempts} times or
 * failed permanently. Obtained from {@link Outbox#deadLetters()}.
 */
public final class DeadLetters {

  private final DeadLetterStorage storage;
  private final Clock clock;

  DeadLetters(DeadLetterStorage storage, Clock clock) {
    this.storage = storage;
    this.clock = clock;
  }

  /** The first {@code limit} dead letters, smallest id first. */
  public List<DeadLetter> list(int limit) {
    return list(0, limit);
  }

  /**
   * The dead letters with an id above {@code afterId}, smallest id first, at most {@code limit}.
   */
  public List<DeadLetter> list(long afterId, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit is " + limit + "; it must be 1 or more");
    }
    return storage.deadLetters(afterId, limit);
  }

  /**
   * The keys that dead letters hold back, when the storage is {@link Ordering#BY_KEY_BLOCKING}
   * (else none): each with the dead letters blocking it and how many messages wait behind them.
   * Unblock a key by {@linkplain #requeue(long...) requeueing} its dead letters (they are retried
   * first, keeping their ids, then the key's later messages follow) or by {@linkplain
   * #purge(long...) purging} them (they are skipped for good).
   */
  public List<BlockedKey> blockedKeys(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit is " + limit + "; it must be 1 or more");
    }
    return storage.blockedKeys(limit);
  }

  /** Moves these dead letters back into the outbox with attempts reset; returns how many. */
  public int requeue(long... ids) {
    return storage.requeueDeadLetters(boxed(ids), clock.now());
  }

  /** Moves every dead letter back into the outbox with attempts reset; returns how many. */
  public int requeueAll() {
    return storage.requeueAllDeadLetters(clock.now());
  }

  /** Deletes these dead letters for good; returns how many. */
  public int purge(long... ids) {
    return storage.purgeDeadLetters(boxed(ids));
  }

  /** Deletes every dead letter for good; returns how many. */
  public int purgeAll() {
    return storage.purgeAllDeadLetters();
  }

  private static List<Long> boxed(long[] ids) {
    return Arrays.stream(ids).boxed().toList();
  }
}
