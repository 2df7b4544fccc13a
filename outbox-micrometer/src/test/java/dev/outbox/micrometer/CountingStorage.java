package dev.outbox.micrometer;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.DeadLetterStorage;
import dev.outbox.FailedEntry;
import dev.outbox.NewEntry;
import dev.outbox.OutboxStats;
import dev.outbox.ProcessorStorage;
import dev.outbox.StatisticsStorage;
import dev.outbox.testkit.InMemoryStorage;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The testkit's {@link InMemoryStorage}, counting {@link #stats} calls and able to fail them or
 * claims on demand: shows that a scrape never reaches the storage, and drives error paths.
 */
final class CountingStorage
    implements ProcessorStorage<Object>, DeadLetterStorage, StatisticsStorage {

  final InMemoryStorage<Object> delegate = new InMemoryStorage<>();
  final AtomicInteger statsCalls = new AtomicInteger();
  volatile RuntimeException failStats;
  volatile RuntimeException failClaims;

  @Override
  public OutboxStats stats(Instant now) {
    statsCalls.incrementAndGet();
    RuntimeException f = failStats;
    if (f != null) {
      throw f;
    }
    return delegate.stats(now);
  }

  @Override
  public void publish(Object txn, List<NewEntry> entries) {
    delegate.publish(txn, entries);
  }

  @Override
  public List<ClaimedEntry> claim(ClaimRequest request) {
    RuntimeException f = failClaims;
    if (f != null) {
      throw f;
    }
    return delegate.claim(request);
  }

  @Override
  public int delete(UUID claimToken, Collection<Long> ids) {
    return delegate.delete(claimToken, ids);
  }

  @Override
  public int renew(UUID claimToken, Collection<Long> ids, Instant deadline) {
    return delegate.renew(claimToken, ids, deadline);
  }

  @Override
  public int release(UUID claimToken, List<FailedEntry> failures) {
    return delegate.release(claimToken, failures);
  }

  @Override
  public int deadLetter(UUID claimToken, List<FailedEntry> failures, Instant now) {
    return delegate.deadLetter(claimToken, failures, now);
  }

  @Override
  public List<DeadLetter> deadLetters(long afterId, int limit) {
    return delegate.deadLetters(afterId, limit);
  }

  @Override
  public int requeueDeadLetters(Collection<Long> ids, Instant now) {
    return delegate.requeueDeadLetters(ids, now);
  }

  @Override
  public int requeueAllDeadLetters(Instant now) {
    return delegate.requeueAllDeadLetters(now);
  }

  @Override
  public int purgeDeadLetters(Collection<Long> ids) {
    return delegate.purgeDeadLetters(ids);
  }

  @Override
  public int purgeAllDeadLetters() {
    return delegate.purgeAllDeadLetters();
  }
}
