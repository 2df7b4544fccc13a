package dev.outbox.spring.boot;

import dev.outbox.Outbox;
import java.util.Objects;
import org.springframework.context.SmartLifecycle;

/**
 * Runs the outbox's processor as part of the application's lifecycle: it starts when the context
 * has been refreshed (every singleton, the {@code DataSource} and the schema included, is ready)
 * and stops on shutdown, after the web server has finished its graceful shutdown (whose in-flight
 * requests may still publish) and before the {@code DataSource} is closed (beans are destroyed only
 * after every lifecycle has stopped).
 *
 * <p>Stopping closes the outbox: the batch in hand is finished (up to {@code shutdownTimeout}),
 * every thread of the outbox ends, and entries not yet published stay in the table for the next
 * start or another instance. An outbox cannot be restarted once closed, so a context that is
 * stopped and started again (rare outside checkpoint/restore) does not run the processor again.
 *
 * <p>Not created where {@code outbox.processor.enabled=false}: such instances only write messages.
 */
public class OutboxProcessorLifecycle implements SmartLifecycle {

  /**
   * The lifecycle phase: below the web server's graceful shutdown ({@code DEFAULT_PHASE - 1024})
   * and the web server itself ({@code DEFAULT_PHASE - 2048}), so the processor starts before them
   * and stops after them.
   */
  public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

  private final Outbox<?> outbox;
  private volatile boolean running;

  /** Creates the lifecycle of an outbox's processor. */
  public OutboxProcessorLifecycle(Outbox<?> outbox) {
    this.outbox = Objects.requireNonNull(outbox, "outbox");
  }

  @Override
  public void start() {
    if (outbox.isClosed()) {
      return; // stopped before: an outbox cannot be restarted
    }
    outbox.start();
    running = true;
  }

  @Override
  public void stop() {
    running = false;
    outbox.close();
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }

  /** The outbox whose processor this runs. */
  public Outbox<?> outbox() {
    return outbox;
  }
}
