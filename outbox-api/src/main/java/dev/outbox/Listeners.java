package dev.outbox;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every listener of an outbox behind one: each event goes to each listener in turn, and whatever
 * one throws is logged and never reaches the processor or the next listener. Internal.
 */
final class Listeners implements OutboxListener {

  private static final Logger log = LoggerFactory.getLogger(Listeners.class);

  private final List<OutboxListener> listeners;

  Listeners(List<OutboxListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  private void each(Consumer<OutboxListener> event) {
    for (OutboxListener l : listeners) {
      try {
        event.accept(l);
      } catch (RuntimeException | LinkageError | AssertionError | StackOverflowError e) {
        log.warn("OutboxListener {} threw; ignored", l.getClass().getName(), e);
      }
    }
  }

  @Override
  public void onWritten(List<Message> messages) {
    each(l -> l.onWritten(messages));
  }

  @Override
  public void onPublished(List<ClaimedEntry> entries) {
    each(l -> l.onPublished(entries));
  }

  @Override
  public void onFailed(ClaimedEntry entry, FailedEntry failure, Throwable cause) {
    each(l -> l.onFailed(entry, failure, cause));
  }

  @Override
  public void onDeadLettered(ClaimedEntry entry, FailedEntry failure, Throwable cause) {
    each(l -> l.onDeadLettered(entry, failure, cause));
  }

  @Override
  public void onReleased(List<ClaimedEntry> entries, Throwable cause) {
    each(l -> l.onReleased(entries, cause));
  }

  @Override
  public void onBatch(int claimed, int published, int failed, int deadLettered, Duration took) {
    each(l -> l.onBatch(claimed, published, failed, deadLettered, took));
  }

  @Override
  public void onLeaseRenewed(int requested, int renewed) {
    each(l -> l.onLeaseRenewed(requested, renewed));
  }

  @Override
  public void onPumpError(Throwable error, Duration backoff) {
    each(l -> l.onPumpError(error, backoff));
  }

  @Override
  public void onLoopStopped(Throwable cause) {
    each(l -> l.onLoopStopped(cause));
  }
}
