package dev.outbox;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;

/**
 * One call of the publisher, on a thread of the outbox's publish executor, bounded by the publish
 * timeout on the outbox's clock. A call that outlives it is interrupted and abandoned: whatever it
 * returns later is ignored. Internal.
 */
final class PublishCall {

  /** What one call came to. */
  sealed interface Outcome permits Sent, SomeFailed, NothingSent {}

  /** The publisher returned normally: every entry was accepted. */
  record Sent() implements Outcome {}

  /** The publisher named failed entries by id. */
  record SomeFailed(Map<Long, PublishException.Failure> failures) implements Outcome {}

  /** The publisher threw something else, or timed out: nothing is known to be sent. */
  record NothingSent(Throwable cause, boolean timedOut) implements Outcome {}

  private static final Sent SENT = new Sent();

  private final Publisher publisher;
  private final Clock clock;
  private final Duration timeout;
  private final ExecutorService executor;

  /** Whether the publisher keeps a key's order within one call. */
  boolean keepsOrder() {
    return publisher.keepsOrder();
  }

  PublishCall(Publisher publisher, Clock clock, Duration timeout, ExecutorService executor) {
    this.publisher = publisher;
    this.clock = clock;
    this.timeout = timeout;
    this.executor = executor;
  }

  Outcome call(List<ClaimedEntry> entries) {
    CompletableFuture<Void> result = new CompletableFuture<>();
    Future<?> task;
    try {
      task =
          executor.submit(
              () -> {
                try {
                  publisher.publish(entries);
                  result.complete(null);
                } catch (Throwable t) { // everything, Errors included, is an outcome to record
                  result.completeExceptionally(t);
                }
              });
    } catch (RejectedExecutionException e) {
      return new NothingSent(new OutboxException("the outbox is closing", e), false);
    }
    CompletableFuture<Void> timer = clock.after(timeout);
    try {
      CompletableFuture.anyOf(result, timer).get();
    } catch (InterruptedException e) {
      task.cancel(true);
      Thread.currentThread().interrupt();
      return new NothingSent(e, false);
    } catch (ExecutionException e) {
      // the result failed (handled below) or the timer did (then the result is not done)
    } finally {
      timer.cancel(false);
    }
    if (!result.isDone()) {
      task.cancel(true);
      return new NothingSent(
          new OutboxException(
              "publisher "
                  + publisher.getClass().getName()
                  + " did not return within publishTimeout "
                  + timeout
                  + "; its call was interrupted and abandoned"),
          true);
    }
    try {
      result.join();
      return SENT;
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof PublishException p) {
        return new SomeFailed(p.failures());
      }
      return new NothingSent(cause, false);
    }
  }
}
