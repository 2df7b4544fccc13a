package dev.outbox.kafka;

import dev.outbox.Message;
import java.util.UUID;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;

/**
 * The size the producer gives a message's record when it checks it against {@code max.request.size}
 * and {@code buffer.memory} before sending: Kafka's own upper-bound estimate (a record batch of
 * this one record, key, value and headers with their length varints), computed by the same
 * kafka-clients function with the same headers the publisher writes. Compression does not change
 * it: the producer checks the uncompressed size. So {@link KafkaPublisher#checkDeliverable} refuses
 * exactly what the producer would refuse, to the byte.
 */
final class RecordSizes {

  /** A stand-in message id: every message id header is 36 ASCII characters. */
  private static final UUID ANY_ID = new UUID(0, 0);

  private RecordSizes() {}

  static int estimate(Message message) {
    Header[] headers = KafkaPublisher.headers(ANY_ID, message).toArray();
    return AbstractRecords.estimateSizeInBytesUpperBound(
        RecordBatch.CURRENT_MAGIC_VALUE,
        CompressionType.NONE,
        message.key(),
        message.payload(),
        headers);
  }
}
