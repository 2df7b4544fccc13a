package dev.outbox.benchmarks;

import dev.outbox.ClaimedEntry;
import dev.outbox.FailedEntry;
import dev.outbox.ProcessorStorage;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/** Times a storage's claim and delete calls into {@link Timings}; delegates everything. */
final class TimedStorage<T> implements ProcessorStorage<T> {

  private final ProcessorStorage<T> storage;
  private final Timings timings;

  TimedStorage(ProcessorStorage<T> storage, Timings timings) {
    this.storage = storage;
    this.timings = timings;
  }

  @Override
  public void publish(T txn, Instant now, List<dev.outbox.Message> messages) {
    storage.publish(txn, now, messages);
  }

  @Override
  public List<ClaimedEntry> claim(String processorId, Instant now, Instant deadline, int limit) {
    long start = System.nanoTime();
    try {
      return storage.claim(processorId, now, deadline, limit);
    } finally {
      timings.claimed(start);
    }
  }

  @Override
  public int delete(String processorId, Collection<Long> ids) {
    long start = System.nanoTime();
    try {
      return storage.delete(processorId, ids);
    } finally {
      timings.deleted(start);
    }
  }

  @Override
  public int renew(String processorId, Collection<Long> ids, Instant deadline) {
    return storage.renew(processorId, ids, deadline);
  }

  @Override
  public int fail(String processorId, List<FailedEntry> failures) {
    return storage.fail(processorId, failures);
  }
}
