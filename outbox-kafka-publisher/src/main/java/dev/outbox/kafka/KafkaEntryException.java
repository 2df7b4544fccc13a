package dev.outbox.kafka;

import java.util.UUID;

/**
 * Why one outbox entry was not published to Kafka: the cause {@link KafkaPublisher} reports for it
 * in a {@link dev.outbox.PublishException}. Its message names the outbox message id, the topic
 * (when it was routed) and the reason; the Kafka exception, when there is one, is the cause.
 */
public final class KafkaEntryException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final UUID messageId;
  private final String topic;
  private final boolean permanent;

  KafkaEntryException(
      UUID messageId, String topic, boolean permanent, String reason, Throwable cause) {
    super(
        (permanent ? "permanent" : "retryable")
            + ": message "
            + messageId
            + (topic == null ? "" : " to topic '" + topic + "'")
            + ": "
            + reason,
        cause);
    this.messageId = messageId;
    this.topic = topic;
    this.permanent = permanent;
  }

  /** The outbox message id of the entry that failed. */
  public UUID messageId() {
    return messageId;
  }

  /** The topic the entry was routed to, or {@code null} when it could not be routed. */
  public String topic() {
    return topic;
  }

  /** Whether no retry can help (the entry goes to the dead letters). */
  public boolean permanent() {
    return permanent;
  }
}
