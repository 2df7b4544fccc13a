package dev.outbox.spring.boot;

import dev.outbox.Outbox;
import dev.outbox.OutboxHealth;
import dev.outbox.OutboxStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The {@code outbox} health indicator. DOWN when this instance should run the processor and its
 * loop is not running (never started, closed, or stopped by an error such as {@code
 * OutOfMemoryError}), when the oldest unpublished entry is older than {@code
 * outbox.health.max-backlog-age} (the broker or every processor has been failing for that long), or
 * when the backlog cannot be counted (the database is unreachable). Details: the loop's state, its
 * last successful pass and failures in a row, and the backlog.
 *
 * <p>Switched off with {@code management.health.outbox.enabled=false}.
 */
public class OutboxHealthIndicator extends AbstractHealthIndicator {

  private final Outbox<?> outbox;
  private final boolean processorEnabled;
  private final Duration maxBacklogAge;

  /**
   * Creates the indicator.
   *
   * @param outbox the outbox
   * @param processorEnabled whether this instance runs the processor (if not, only the backlog
   *     counts)
   * @param maxBacklogAge the oldest pending entry's age above which the outbox is DOWN; null turns
   *     the check off
   */
  public OutboxHealthIndicator(Outbox<?> outbox, boolean processorEnabled, Duration maxBacklogAge) {
    super("outbox health check failed");
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.processorEnabled = processorEnabled;
    this.maxBacklogAge = maxBacklogAge;
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    List<String> problems = new ArrayList<>();
    builder.withDetail("processorId", outbox.processorId());
    builder.withDetail("processor", OutboxViews.processor(outbox, processorEnabled));
    if (processorEnabled) {
      OutboxHealth h = outbox.health();
      if (h.stoppedBy() != null) {
        problems.add("the processor stopped: " + OutboxViews.describe(h.stoppedBy()));
      } else if (!h.isHealthy()) {
        problems.add("the processor is not running");
      }
    }
    if (outbox.supportsStats()) {
      OutboxStats stats = outbox.stats();
      builder.withDetail("backlog", OutboxViews.backlog(stats));
      if (maxBacklogAge != null && stats.oldestPendingAge().compareTo(maxBacklogAge) > 0) {
        problems.add(
            "the oldest pending entry is "
                + stats.oldestPendingAge()
                + " old, above outbox.health.max-backlog-age ("
                + maxBacklogAge
                + ")");
      }
    }
    if (maxBacklogAge != null) {
      builder.withDetail("maxBacklogAge", maxBacklogAge.toString());
    }
    if (problems.isEmpty()) {
      builder.up();
    } else {
      builder.down().withDetail("problems", problems);
    }
  }
}
