package dev.outbox.micrometer;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.OutboxStats;
import dev.outbox.testkit.ForwardingStorage;
import dev.outbox.testkit.InMemoryStorage;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The testkit's {@link InMemoryStorage}, counting {@link #stats} calls and able to fail them or
 * claims on demand: shows that a scrape never reaches the storage, and drives error paths.
 */
final class CountingStorage extends ForwardingStorage<Object> {

  final InMemoryStorage<Object> delegate;
  final AtomicInteger statsCalls = new AtomicInteger();
  volatile RuntimeException failStats;
  volatile RuntimeException failClaims;

  CountingStorage() {
    this(new InMemoryStorage<>());
  }

  private CountingStorage(InMemoryStorage<Object> delegate) {
    super(delegate);
    this.delegate = delegate;
  }

  @Override
  public OutboxStats stats(Instant now) {
    statsCalls.incrementAndGet();
    RuntimeException f = failStats;
    if (f != null) {
      throw f;
    }
    return super.stats(now);
  }

  @Override
  public List<ClaimedEntry> claim(ClaimRequest request) {
    RuntimeException f = failClaims;
    if (f != null) {
      throw f;
    }
    return super.claim(request);
  }
}
