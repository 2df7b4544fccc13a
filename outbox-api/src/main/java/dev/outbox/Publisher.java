package dev.outbox;

import java.util.List;

/**
 * Hands claimed outbox entries to a broker: the broker adapter's side of the outbox.
 *
 * <p>The processor calls {@link #publish} with one batch at a time, from one thread per outbox (not
 * necessarily the same thread each time); an implementation used by several outboxes must be
 * thread-safe. It may fan the batch out concurrently inside, but must return only once the broker
 * holds every entry it reports as sent.
 *
 * <p>Every entry carries its {@link ClaimedEntry#messageId()}, unique beyond its table: send it
 * along (a message attribute, a header, a deduplication id) so consumers can drop the duplicates
 * that at-least-once delivery allows.
 *
 * <p>Every implementation should pass the testkit's {@code PublisherContract}.
 */
@FunctionalInterface
public interface Publisher {

  /**
   * Publishes a batch.
   *
   * <p>Returning normally means the broker accepted every entry; the processor then deletes them
   * all. To report that only some were accepted, throw a {@link PublishException} naming the failed
   * entries by id: the processor deletes the others and retries the failed ones. Any other
   * exception (or error) counts as a failure of the whole batch, which the processor treats as a
   * possible broker outage: see the README's "What you can rely on".
   *
   * <p>A call that outlives the outbox's {@code publishTimeout} is abandoned: its thread is
   * interrupted, its batch released for a later attempt, and whatever it returns afterwards
   * ignored.
   *
   * @param entries the batch, oldest first; never empty
   * @throws PublishException when some or all entries were not accepted
   */
  void publish(List<ClaimedEntry> entries) throws PublishException;

  /**
   * Checks, at write time, that this publisher could ever deliver the message: its size, header
   * count and header names against the broker's limits as this publisher is configured. {@link
   * Outbox#publish} calls it inside the caller's transaction, so a message that could never be sent
   * is refused before it is written rather than dead-lettered later.
   *
   * <p>The default accepts everything. Keep it cheap and free of I/O.
   *
   * @throws IllegalArgumentException naming the limit the message breaks
   */
  default void checkDeliverable(Message message) {}

  /**
   * Whether one call keeps the order of entries of the same key (same namespace and key): they
   * reach the broker in list order, and when one of them fails, every later entry of that key in
   * the call fails too (retryably, reported in the {@link PublishException}), so none overtakes it.
   * An outbox over an ordered storage ({@link ProcessorStorage#ordering()}) hands such a publisher
   * whole runs of a key in one call; any other publisher gets at most one entry per key per call,
   * which is safe but slower for hot keys.
   *
   * <p>The default is {@code false}. A decorating publisher returns its delegate's answer.
   */
  default boolean keepsOrder() {
    return false;
  }
}
