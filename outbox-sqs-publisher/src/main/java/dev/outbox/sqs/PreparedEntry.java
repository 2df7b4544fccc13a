package dev.outbox.sqs;

import dev.outbox.ClaimedEntry;
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
}
