package dev.outbox.testing;

/**
 * No database server of the kind asked for can be had on this machine: none was given, there is no
 * Docker engine, and the embedded one cannot run. The message says how to provide one. Test helpers
 * may turn it into a skipped test; nothing else should.
 */
public final class DatabaseUnavailableException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what is missing and how to provide it
   * @param cause why the last candidate failed
   */
  public DatabaseUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
