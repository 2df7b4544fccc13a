package dev.outbox.sqs;

import dev.outbox.OutboxException;

/**
 * Why {@link SqsPublisher} could not publish one outbox entry: the cause recorded for that entry in
 * the {@link dev.outbox.PublishException}.
 *
 * <p>{@link #errorCode()} is the SQS error code when SQS refused the entry or the request that
 * carried it (such as {@code InvalidMessageContents} or {@code QueueDoesNotExist}), or {@code null}
 * when the publisher refused it before sending (no route for its namespace, over a limit, an
 * attribute SQS cannot carry). The message always names the entry and, for a limit, the limit.
 */
public final class SqsEntryException extends OutboxException {

  private final long entryId;
  private final String queueUrl;
  private final String errorCode;
  private final boolean senderFault;

  SqsEntryException(
      String message,
      long entryId,
      String queueUrl,
      String errorCode,
      boolean senderFault,
      Throwable cause) {
    super(message, cause);
    this.entryId = entryId;
    this.queueUrl = queueUrl;
    this.errorCode = errorCode;
    this.senderFault = senderFault;
  }

  /** A refusal made by the publisher before sending: always a sender fault. */
  static SqsEntryException rejected(long entryId, String queueUrl, String message) {
    return new SqsEntryException(message, entryId, queueUrl, null, true, null);
  }

  /** The outbox entry's id. */
  public long entryId() {
    return entryId;
  }

  /** The queue the entry was routed to, or {@code null} when its namespace has no route. */
  public String queueUrl() {
    return queueUrl;
  }

  /** The SQS error code, or {@code null} when the publisher refused the entry before sending. */
  public String errorCode() {
    return errorCode;
  }

  /** Whether SQS (or the publisher) blamed the message or request rather than the service. */
  public boolean senderFault() {
    return senderFault;
  }
}
