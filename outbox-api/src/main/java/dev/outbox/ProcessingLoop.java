package dev.outbox;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background loop: wait for a wake-up or the interval, pump, and after a failed pass (an
 * exception, an error, or a broker outage) back off exponentially. It survives everything it can:
 * only a {@link VirtualMachineError} other than {@link StackOverflowError} ends it, and then it
 * says so at ERROR, tells the listeners, and {@link #health} shows it. Every wait goes through the
 * {@link Clock}. Internal.
 */
final class ProcessingLoop implements Runnable {

  private static final Logger log = LoggerFactory.getLogger(ProcessingLoop.class);

  /** One pass; returns what it did, throws when it failed. */
  interface Pass {
    PumpResult run(BooleanSupplier stop);
  }

  /** Empty passes in a row after which a busy loop goes back to the full interval. */
  static final int EMPTY_PASSES_BEFORE_IDLE = 3;

  private final Pass pass;
  private final Clock clock;
  private final Duration interval;
  private final Duration busyInterval;
  private final Backoff errorBackoff;
  private final OutboxListener listener;
  private final String processorId;
  private final AtomicReference<CompletableFuture<Void>> wake =
      new AtomicReference<>(new CompletableFuture<>());
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private volatile Instant lastSuccess;
  private volatile int consecutiveFailures;
  private volatile Throwable lastError;
  private volatile Throwable stoppedBy;

  ProcessingLoop(
      Pass pass,
      Clock clock,
      Duration interval,
      Duration busyInterval,
      Backoff errorBackoff,
      OutboxListener listener,
      String processorId) {
    this.pass = pass;
    this.clock = clock;
    this.interval = interval;
    this.busyInterval = busyInterval.compareTo(interval) < 0 ? busyInterval : interval;
    this.errorBackoff = errorBackoff;
    this.listener = listener;
    this.processorId = processorId;
  }

  /** Ends the current wait early; coalesces with other wake-ups until the next pass starts. */
  void wake() {
    wake.get().complete(null);
  }

  /** Asks the loop to stop after the batch in hand; returns at once. */
  void stop() {
    stopped.complete(null);
  }

  boolean isStopping() {
    return stopped.isDone();
  }

  OutboxHealth health(boolean started, boolean running) {
    return new OutboxHealth(
        started, running, lastSuccess, consecutiveFailures, lastError, stoppedBy);
  }

  @Override
  public void run() {
    log.info("outbox processor {} started", processorId);
    int emptyPasses = EMPTY_PASSES_BEFORE_IDLE; // idle until a pass finds work
    Duration wait = Duration.ZERO; // pump once at start: there may be a backlog
    try {
      while (!isStopping()) {
        if (!wait.isZero() && !await(wait, consecutiveFailures == 0)) {
          break;
        }
        if (isStopping()) {
          break;
        }
        // Reset before pumping: a wake-up from now on triggers another pass after this one.
        wake.set(new CompletableFuture<>());
        Throwable failure;
        try {
          PumpResult result = pass.run(this::isStopping);
          if (result.outage()) {
            failure =
                new OutboxException(
                    "the publisher delivered nothing of "
                        + result.released()
                        + " entries; they were given back uncharged");
          } else {
            emptyPasses = result.claimed() > 0 ? 0 : emptyPasses + 1;
            consecutiveFailures = 0;
            lastSuccess = clock.now();
            // While entries keep coming, look again soon: wake-ups can lag under load (NOTIFY
            // delivery slows at thousands of commits a second) and a busy outbox pays little for
            // a claim that finds work. After a few empty passes in a row it is idle again and
            // waits the full interval (or a wake-up).
            boolean busy = emptyPasses < EMPTY_PASSES_BEFORE_IDLE;
            wait = busy && !busyInterval.isZero() ? busyInterval : interval;
            continue;
          }
        } catch (VirtualMachineError e) {
          if (!(e instanceof StackOverflowError)) {
            stoppedBy = e;
            lastError = e;
            log.error(
                "outbox processor {} STOPPED by {}: it publishes nothing more until the outbox"
                    + " is rebuilt; messages stay in the storage for other processors",
                processorId,
                e.getClass().getName(),
                e);
            listener.onLoopStopped(e);
            return;
          }
          failure = e;
        } catch (Throwable e) { // everything else is survived
          failure = e;
        }
        consecutiveFailures++;
        lastError = failure;
        wait = errorBackoff.delay(consecutiveFailures);
        Duration backoff = wait;
        Throwable error = failure;
        listener.onPumpError(error, backoff);
        String message = "outbox processor {} failed a pass ({} in a row); retrying in {} ms";
        if (failure instanceof Error) {
          log.error(message, processorId, consecutiveFailures, wait.toMillis(), failure);
        } else {
          log.warn(message, processorId, consecutiveFailures, wait.toMillis(), failure);
        }
      }
    } finally {
      log.info("outbox processor {} stopped", processorId);
    }
  }

  /**
   * Waits for the time, a stop, or (when allowed) a wake-up. A backoff after errors ignores
   * wake-ups so that a burst of writes cannot hammer a failing database or broker.
   *
   * @return false when interrupted
   */
  private boolean await(Duration time, boolean wakeable) {
    CompletableFuture<Void> timer = clock.after(time);
    try {
      if (wakeable) {
        CompletableFuture.anyOf(timer, wake.get(), stopped).get();
      } else {
        CompletableFuture.anyOf(timer, stopped).get();
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException | java.util.concurrent.CancellationException e) {
      // A clock whose wait failed or was cancelled by someone else: treat the wait as over.
      log.warn("a Clock wait of {} ended abnormally; continuing", clock, e);
      return true;
    } finally {
      timer.cancel(false);
    }
  }
}
