package dev.outbox;

/**
 * The root of this library's runtime failures: a storage or publisher that could not do its work.
 *
 * <p>Programming errors are reported with the JDK's own types instead: {@link
 * IllegalArgumentException} for a bad message or setting, {@link IllegalStateException} for a call
 * the outbox's state does not allow (such as publishing through a closed outbox).
 */
public class OutboxException extends RuntimeException {

  /** An exception with a message. */
  public OutboxException(String message) {
    super(message);
  }

  /** An exception with a message and the cause it wraps. */
  public OutboxException(String message, Throwable cause) {
    super(message, cause);
  }
}
