package dev.outbox.kafka;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Reads what {@link KafkaPublisher} put into a record, on the consumer side.
 *
 * <pre>{@code
 * for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
 *   UUID id = KafkaRecords.messageId(r);          // deduplicate by it
 *   if (!seen.add(id)) continue;                  // a redelivery: already handled
 *   Map<String, String> headers = KafkaRecords.userHeaders(r);
 *   handle(r.key(), r.value(), headers);
 * }
 * }</pre>
 */
public final class KafkaRecords {

  private KafkaRecords() {}

  /**
   * The outbox message id of the record: the same for every delivery of one outbox message.
   *
   * @throws IllegalArgumentException when the record has no {@value
   *     KafkaPublisher#MESSAGE_ID_HEADER} header or its value is not a UUID (a record not written
   *     by {@link KafkaPublisher})
   */
  public static UUID messageId(ConsumerRecord<?, ?> record) {
    String value = lastHeader(record.headers(), KafkaPublisher.MESSAGE_ID_HEADER);
    if (value == null) {
      throw new IllegalArgumentException(
          "record "
              + record.topic()
              + "-"
              + record.partition()
              + "@"
              + record.offset()
              + " has no "
              + KafkaPublisher.MESSAGE_ID_HEADER
              + " header");
    }
    return UUID.fromString(value);
  }

  /** The outbox namespace of the record, or {@code null} when it has none. */
  public static String namespace(ConsumerRecord<?, ?> record) {
    return lastHeader(record.headers(), KafkaPublisher.NAMESPACE_HEADER);
  }

  /**
   * The message's own headers, decoded as UTF-8, without the publisher's {@code outbox.*} ones, in
   * record order.
   */
  public static Map<String, String> userHeaders(ConsumerRecord<?, ?> record) {
    Map<String, String> headers = new LinkedHashMap<>();
    for (Header h : record.headers()) {
      if (!KafkaPublisher.isReservedHeader(h.key())) {
        headers.put(h.key(), h.value() == null ? null : utf8(h.value()));
      }
    }
    return headers;
  }

  private static String lastHeader(Headers headers, String name) {
    Header h = headers.lastHeader(name);
    return h == null || h.value() == null ? null : utf8(h.value());
  }

  private static String utf8(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
