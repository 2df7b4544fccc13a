package dev.outbox.kafka;

import dev.outbox.Message;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * An upper bound of the bytes a message takes as a Kafka record in a batch of its own, the figure
 * the producer compares with {@code max.request.size} before sending: the record batch header, the
 * record's fixed fields, key, value and headers (the publisher's own included) with their length
 * varints at their widest. Compression does not change it: the producer checks the uncompressed
 * size.
 */
final class RecordSizes {

  /** Kafka's record batch header (DefaultRecordBatch.RECORD_BATCH_OVERHEAD). */
  static final int BATCH_OVERHEAD = 61;

  /** A record's length, attributes, timestamp and offset deltas at their widest. */
  static final int RECORD_OVERHEAD = 21;

  /** The widest varint. */
  private static final int VARINT = 5;

  /** The publisher's own headers: the names, a 36-character UUID and the namespace. */
  static final int OWN_HEADERS_FIXED =
      2 * 2 * VARINT
          + KafkaPublisher.MESSAGE_ID_HEADER.length()
          + 36
          + KafkaPublisher.NAMESPACE_HEADER.length();

  private RecordSizes() {}

  static long estimate(Message message) {
    long size = BATCH_OVERHEAD + RECORD_OVERHEAD;
    size += VARINT + message.keySize();
    size += VARINT + message.payloadSize();
    size += VARINT; // header count
    for (Map.Entry<String, String> h : message.headers().entrySet()) {
      size += 2 * VARINT + utf8(h.getKey()) + utf8(h.getValue());
    }
    size += OWN_HEADERS_FIXED + utf8(message.namespace());
    return size;
  }

  private static int utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }
}
