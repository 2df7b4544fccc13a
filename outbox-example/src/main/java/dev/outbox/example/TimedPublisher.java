package dev.outbox.example;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Times every call to the real publisher, so that the report can say how much of the outbox's
 * latency is the broker's: a {@code publish} call returns when the broker has accepted the batch.
 */
final class TimedPublisher implements Publisher {

  private final Publisher delegate;
  private final ConcurrentLinkedQueue<Double> callMillis = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Integer> callSizes = new ConcurrentLinkedQueue<>();

  /** Order id → System.nanoTime() when the outbox first handed its message to the publisher. */
  final Map<Long, Long> handedAt = new ConcurrentHashMap<>();

  TimedPublisher(Publisher delegate) {
    this.delegate = delegate;
  }

  @Override
  public void publish(List<ClaimedEntry> entries) throws PublishException {
    long start = System.nanoTime();
    for (ClaimedEntry e : entries) {
      Long order = OrderProducers.orderId(e.message().payloadAsString());
      if (order != null) {
        handedAt.putIfAbsent(order, start);
      }
    }
    try {
      delegate.publish(entries);
    } finally {
      callMillis.add((System.nanoTime() - start) / 1e6);
      callSizes.add(entries.size());
    }
  }

  @Override
  public void checkDeliverable(Message message) {
    delegate.checkDeliverable(message);
  }

  @Override
  public boolean keepsOrder() {
    return delegate.keepsOrder();
  }

  /** How long each publish call took, in milliseconds. */
  List<Double> callMillis() {
    return new ArrayList<>(callMillis);
  }

  /** The mean number of entries per publish call; NaN before the first call. */
  double meanCallSize() {
    return callSizes.stream().mapToInt(Integer::intValue).average().orElse(Double.NaN);
  }
}
