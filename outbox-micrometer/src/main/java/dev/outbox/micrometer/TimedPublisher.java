package dev.outbox.micrometer;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Times each call of the wrapped publisher into {@code outbox.publish.duration{outcome}} and tells
 * {@link OutboxMetrics} which entries the publisher failed permanently. Made by {@link
 * OutboxMetrics#instrument}.
 */
final class TimedPublisher implements Publisher {

  static final String SUCCESS = "success";
  static final String PARTIAL_FAILURE = "partial_failure";
  static final String FAILURE = "failure";

  private final Publisher delegate;
  private final OutboxMetrics metrics;
  private final Timer success;
  private final Timer partialFailure;
  private final Timer failure;

  TimedPublisher(Publisher delegate, OutboxMetrics metrics) {
    this.delegate = delegate;
    this.metrics = metrics;
    this.success = metrics.publishTimer(SUCCESS);
    this.partialFailure = metrics.publishTimer(PARTIAL_FAILURE);
    this.failure = metrics.publishTimer(FAILURE);
  }

  @Override
  public void publish(List<ClaimedEntry> entries) throws PublishException {
    Instant start = metrics.clock().now();
    Timer outcome = failure;
    try {
      delegate.publish(entries);
      outcome = success;
    } catch (PublishException e) {
      outcome = partialFailure;
      for (Map.Entry<Long, PublishException.Failure> f : e.failures().entrySet()) {
        if (f.getValue().permanent()) {
          metrics.permanentFailure(f.getKey());
        }
      }
      throw e;
    } finally {
      Duration took = Duration.between(start, metrics.clock().now());
      outcome.record(took.isNegative() ? Duration.ZERO : took);
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

  @Override
  public String toString() {
    return "TimedPublisher{" + delegate + "}";
  }
}
