package dev.outbox.example;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the downstream service does with each delivery, whichever broker brought it: deduplicates by
 * the outbox message id (unique beyond one outbox table, unlike the entry id) and records when each
 * order of this run first arrived. {@link QueueConsumer} reads SQS, {@link TopicConsumer} Kafka.
 */
abstract class OrderConsumer implements AutoCloseable {

  private static final Pattern RUN = Pattern.compile("\"run\":\"([^\"]+)\"");
  private static final Pattern ORDER = Pattern.compile("\"orderId\":(\\d+)");

  private final String runId;

  /** Order id → System.nanoTime() at first receipt. */
  final Map<Long, Long> consumedAt = new ConcurrentHashMap<>();

  private final Map<UUID, Boolean> seenMessages = new ConcurrentHashMap<>();
  private final AtomicInteger duplicates = new AtomicInteger();
  private final AtomicInteger foreign = new AtomicInteger();

  OrderConsumer(String runId) {
    this.runId = runId;
  }

  /**
   * Starts reading; returns once the consumer is positioned, so nothing published later is missed.
   */
  abstract OrderConsumer start();

  /** Stops reading and waits (bounded) for the consumer's threads to end. */
  @Override
  public abstract void close() throws InterruptedException;

  /** Handles one delivery received at {@code now} (System.nanoTime()). */
  final void handle(UUID messageId, byte[] payload, long now) {
    String body = new String(payload, StandardCharsets.UTF_8);
    Matcher run = RUN.matcher(body);
    Matcher order = ORDER.matcher(body);
    if (!run.find() || !run.group(1).equals(runId) || !order.find()) {
      foreign.incrementAndGet(); // left over from an earlier run on a shared queue or topic
      return;
    }
    if (seenMessages.putIfAbsent(messageId, Boolean.TRUE) != null) {
      duplicates.incrementAndGet(); // at-least-once: the same outbox message delivered again
      return;
    }
    consumedAt.putIfAbsent(Long.parseLong(order.group(1)), now);
  }

  int consumed() {
    return consumedAt.size();
  }

  int duplicates() {
    return duplicates.get();
  }

  int foreign() {
    return foreign.get();
  }
}
