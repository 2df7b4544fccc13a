package dev.outbox.kafka;

import java.util.Objects;

/**
 * Where one message goes: a topic, and optionally a partition of it.
 *
 * <p>Without a partition the producer's partitioner picks one from the record key (murmur2 of the
 * key; records without a key are spread by the sticky partitioner), so every message of one key
 * lands on one partition while the topic's partition count stays the same.
 *
 * @param topic the topic name (1 to 249 of {@code [a-zA-Z0-9._-]}, not {@code .} or {@code ..})
 * @param partition the partition, or {@code null} to let the producer choose from the key
 */
public record KafkaRoute(String topic, Integer partition) {

  /**
   * Checks the fields.
   *
   * @throws IllegalArgumentException naming the topic when it is not a legal Kafka topic name, or
   *     when the partition is negative
   */
  public KafkaRoute {
    Objects.requireNonNull(topic, "topic");
    String problem = TopicNames.problem(topic);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    if (partition != null && partition < 0) {
      throw new IllegalArgumentException(
          "partition for topic '" + topic + "' is " + partition + "; must be >= 0");
    }
  }

  /** A route to the topic, the partition chosen by the producer from the record key. */
  public static KafkaRoute topic(String topic) {
    return new KafkaRoute(topic, null);
  }

  /** A route to one partition of the topic. */
  public static KafkaRoute partition(String topic, int partition) {
    return new KafkaRoute(topic, partition);
  }
}
