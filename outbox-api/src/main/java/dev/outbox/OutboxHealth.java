package dev.outbox;

import java.time.Instant;

/**
 * How an outbox's background loop is doing, for a health check: {@link Outbox#health()}.
 *
 * @param started whether {@link Outbox#start()} was called
 * @param running whether the loop thread is alive
 * @param lastSuccessfulPass when a pass last finished without an error or an outage, by the
 *     outbox's clock; null before the first
 * @param consecutiveFailures failed passes (errors or outages) since the last successful one
 * @param lastError the most recent failure of a pass, or null
 * @param stoppedBy what ended the loop when it stopped on its own (a {@link VirtualMachineError}
 *     such as {@link OutOfMemoryError}), or null; the loop publishes nothing more then, and a
 *     health check should report the instance as down
 */
public record OutboxHealth(
    boolean started,
    boolean running,
    Instant lastSuccessfulPass,
    int consecutiveFailures,
    Throwable lastError,
    Throwable stoppedBy) {

  /** Started, running, and not stopped by an error. */
  public boolean isHealthy() {
    return started && running && stoppedBy == null;
  }
}
