package dev.outbox.sqs;

import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;

/** Which SQS failures can never succeed on a retry. Everything not listed here is retryable. */
final class Failures {

  /**
   * Error codes that blame the message itself: sending it again cannot help. Throttling, service
   * errors, KMS and permission problems are not here: they pass, or an operator fixes them.
   */
  static final Set<String> MESSAGE_FAULTS =
      Set.of(
          "InvalidMessageContents",
          "MessageTooLong",
          "InvalidParameterValue",
          "InvalidParameterValues",
          "InvalidAttributeName",
          "InvalidAttributeValue",
          "BatchRequestTooLong");

  private Failures() {}

  /** The cause behind the wrappers a future adds. */
  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** The SQS error code without its legacy prefix, or {@code null} when there is none. */
  static String errorCode(Throwable t) {
    if (t instanceof AwsServiceException ase && ase.awsErrorDetails() != null) {
      return normalize(ase.awsErrorDetails().errorCode());
    }
    return null;
  }

  static String normalize(String code) {
    if (code == null) {
      return null;
    }
    String c = code;
    if (c.startsWith("AWS.SimpleQueueService.")) {
      c = c.substring("AWS.SimpleQueueService.".length());
    }
    if (c.startsWith("com.amazonaws.sqs#")) {
      c = c.substring("com.amazonaws.sqs#".length());
    }
    if (c.endsWith("Exception")) {
      c = c.substring(0, c.length() - "Exception".length());
    }
    return c;
  }

  /** Whether a whole request failed because its queue does not exist. */
  static boolean queueMissing(Throwable t) {
    String code = errorCode(t);
    return t instanceof QueueDoesNotExistException
        || "QueueDoesNotExist".equals(code)
        || "NonExistentQueue".equals(code);
  }

  /** Whether a whole request failed because of (some of) its messages. */
  static boolean messageFault(Throwable t) {
    String code = errorCode(t);
    return code != null && MESSAGE_FAULTS.contains(code);
  }

  /** Whether a failed batch entry can never succeed. */
  static boolean permanentEntryFailure(String code, Boolean senderFault) {
    String normalized = normalize(code);
    return Boolean.TRUE.equals(senderFault)
        && normalized != null
        && MESSAGE_FAULTS.contains(normalized);
  }
}
