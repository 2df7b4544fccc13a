package dev.outbox;

import java.util.List;

/**
 * Hands claimed outbox entries to a broker: the broker adapter's side of the outbox.
 *
 * <p>The processor calls {@link #publish} with one batch at a time, from one thread per outbox; an
 * implementation used by several outboxes must be thread-safe. It may fan the batch out
 * concurrently inside, but must return only once every entry's outcome is known.
 *
 * <p>Every entry carries its stable {@link ClaimedEntry#id()}: send it along (a message attribute,
 * a header, a deduplication id) so consumers can drop the duplicates that at-least-once delivery
 * allows.
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
   * exception counts as a failure of the whole batch.
   *
   * @param entries the batch, oldest first; never empty
   * @throws PublishException when some or all entries were not accepted
   */
  void publish(List<ClaimedEntry> entries) throws PublishException;
}
