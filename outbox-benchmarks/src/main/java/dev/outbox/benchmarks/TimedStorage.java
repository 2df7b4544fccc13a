package dev.outbox.benchmarks;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.FailedEntry;
import dev.outbox.NewEntry;
import dev.outbox.ProcessorStorage;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/** Times a storage's claim and delete calls into {@link Timings}; delegates everything. */
final class TimedStorage<T> implements ProcessorStorage<T> {

  private final ProcessorStorage<T> storage;
  private final Timings timings;

  TimedStorage(ProcessorStorage<T> storage, Timings timings) {
    this.storage = storage;
    this.timings = timings;
  }

  @Override
  public void publish(T txn, List<NewEntry> entries) {
    storage.publish(txn, entries);
  }

  @Override
  public List<ClaimedEntry> claim(ClaimRequest request) {
    long start = System.nanoTime();
    try {
      return storage.claim(request);
    } finally {
      timings.claimed(start);
    }
  }

  @Override
  public int delete(UUID claimToken, Collection<Long> ids) {
    long start = System.nanoTime();
    try {
      return storage.delete(claimToken, ids);
    } finally {
      timings.deleted(start);
    }
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
  public dev.outbox.Ordering ordering() {
    return storage.ordering();
  }

  @Override
  public void finish(UUID claimToken) {
    storage.finish(claimToken); // a lock-held claim commits here
  }
}
