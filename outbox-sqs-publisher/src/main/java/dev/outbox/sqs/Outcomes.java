package dev.outbox.sqs;

import dev.outbox.ClaimedEntry;
import dev.outbox.PublishException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every entry's outcome in one publish call, filled concurrently by request callbacks. The first
 * outcome recorded for an entry wins.
 */
final class Outcomes {

  private final Set<Long> sent = ConcurrentHashMap.newKeySet();
  private final Map<Long, PublishException.Failure> failed = new ConcurrentHashMap<>();
  private final Set<Object> brokenKeys = ConcurrentHashMap.newKeySet();

  void sent(long id) {
    if (!failed.containsKey(id)) {
      sent.add(id);
    }
  }

  void retryable(long id, Throwable cause) {
    fail(id, new PublishException.Failure(cause, false));
  }

  void permanent(long id, Throwable cause) {
    fail(id, new PublishException.Failure(cause, true));
  }

  private void fail(long id, PublishException.Failure failure) {
    if (!sent.contains(id)) {
      failed.putIfAbsent(id, failure);
    }
  }

  /**
   * Records that a message of this key ({@link PreparedEntry#orderKey()}: namespace and key) failed
   * and may be retried later: later messages of the key in this call are held back so they cannot
   * overtake it. A message without a key ({@code null}) is never ordered, so nothing is recorded.
   */
  void breakKey(Object orderKey) {
    if (orderKey != null) {
      brokenKeys.add(orderKey);
    }
  }

  boolean keyBroken(Object orderKey) {
    return orderKey != null && brokenKeys.contains(orderKey);
  }

  boolean known(long id) {
    return sent.contains(id) || failed.containsKey(id);
  }

  int sentCount() {
    return sent.size();
  }

  /** Throws the failures, in batch order, when there are any. */
  void throwIfAnyFailed(List<ClaimedEntry> batch) {
    if (failed.isEmpty()) {
      return;
    }
    PublishException.Builder b = PublishException.builder();
    for (ClaimedEntry e : batch) {
      PublishException.Failure f = failed.get(e.id());
      if (f != null) {
        b.add(e.id(), f);
      }
    }
    b.throwIfAny();
  }
}
