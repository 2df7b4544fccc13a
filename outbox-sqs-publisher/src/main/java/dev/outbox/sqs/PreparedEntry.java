package dev.outbox.sqs;

import dev.outbox.ClaimedEntry;
import java.nio.ByteBuffer;
import java.util.List;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * An outbox entry turned into its SQS batch entry, ready to send.
 *
 * @param entry the outbox entry
 * @param queueUrl where it goes
 * @param groupId its FIFO message group, {@code null} on a standard queue
 * @param request the SQS batch entry (its id is the outbox entry id as text)
 * @param bytes its size as SQS counts it: body plus attribute names, types and values
 */
record PreparedEntry(
    ClaimedEntry entry,
    String queueUrl,
    String groupId,
    SendMessageBatchRequestEntry request,
    int bytes) {

  long id() {
    return entry.id();
  }

  /** What the outbox keeps in order: namespace and key; {@code null} for a message without key. */
  Object orderKey() {
    return orderKey(entry);
  }

  /** The order key of an entry: namespace and key, or {@code null} when it has no key. */
  static Object orderKey(ClaimedEntry entry) {
    byte[] key = entry.message().key();
    return key == null ? null : List.of(entry.message().namespace(), ByteBuffer.wrap(key));
  }
}
