package dev.outbox.testkit;

import dev.outbox.BlockedKey;
import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.DeadLetterStorage;
import dev.outbox.FailedEntry;
import dev.outbox.NewEntry;
import dev.outbox.Ordering;
import dev.outbox.OutboxStats;
import dev.outbox.ProcessorStorage;
import dev.outbox.StatisticsStorage;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * A storage that forwards every call to another, for tests that wrap a storage to count, delay or
 * fail some calls: override the methods to change and leave the rest forwarding.
 *
 * <pre>{@code
 * ProcessorStorage<Object> flaky = new ForwardingStorage<>(new InMemoryStorage<>()) {
 *   @Override public List<ClaimedEntry> claim(ClaimRequest r) {
 *     if (failNext.getAndSet(false)) throw new OutboxException("database unreachable");
 *     return super.claim(r);
 *   }
 * };
 * }</pre>
 *
 * @param <T> the transaction handle
 */
public class ForwardingStorage<T>
    implements ProcessorStorage<T>, DeadLetterStorage, StatisticsStorage {

  private final ProcessorStorage<T> storage;
  private final DeadLetterStorage deadLetters;
  private final StatisticsStorage statistics;

  /**
   * Forwards to {@code delegate}, which keeps dead letters and statistics (as {@link
   * InMemoryStorage} and the JDBC storages do).
   */
  public <S extends ProcessorStorage<T> & DeadLetterStorage & StatisticsStorage> ForwardingStorage(
      S delegate) {
    this.storage = delegate;
    this.deadLetters = delegate;
    this.statistics = delegate;
  }

  @Override
  public void publish(T txn, List<NewEntry> entries) {
    storage.publish(txn, entries);
  }

  @Override
  public List<ClaimedEntry> claim(ClaimRequest request) {
    return storage.claim(request);
  }

  @Override
  public int delete(UUID claimToken, Collection<Long> ids) {
    return storage.delete(claimToken, ids);
  }

  @Override
  public int renew(UUID claimToken, Collection<Long> ids, Instant deadline) {
    return storage.renew(claimToken, ids, deadline);
  }

  @Override
  public int release(UUID claimToken, List<FailedEntry> failures) {
    return storage.release(claimToken, failures);
  }

  @Override
  public int deadLetter(UUID claimToken, List<FailedEntry> failures, Instant now) {
    return deadLetters.deadLetter(claimToken, failures, now);
  }

  @Override
  public List<DeadLetter> deadLetters(long afterId, int limit) {
    return deadLetters.deadLetters(afterId, limit);
  }

  @Override
  public int requeueDeadLetters(Collection<Long> ids, Instant now) {
    return deadLetters.requeueDeadLetters(ids, now);
  }

  @Override
  public int requeueAllDeadLetters(Instant now) {
    return deadLetters.requeueAllDeadLetters(now);
  }

  @Override
  public int purgeDeadLetters(Collection<Long> ids) {
    return deadLetters.purgeDeadLetters(ids);
  }

  @Override
  public int purgeAllDeadLetters() {
    return deadLetters.purgeAllDeadLetters();
  }

  @Override
  public Ordering ordering() {
    return storage.ordering();
  }

  @Override
  public void finish(UUID claimToken) {
    storage.finish(claimToken);
  }

  @Override
  public List<BlockedKey> blockedKeys(int limit) {
    return deadLetters.blockedKeys(limit);
  }

  @Override
  public OutboxStats stats(Instant now) {
    return statistics.stats(now);
  }
}
