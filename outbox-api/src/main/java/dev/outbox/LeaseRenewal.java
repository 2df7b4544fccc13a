package dev.outbox;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews the claim on a batch every half claim duration for as long as its publishing lasts, so a
 * slow broker does not let another processor take the batch over mid-publish. The publish timeout
 * bounds how long that can go on. Internal.
 */
final class LeaseRenewal implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LeaseRenewal.class);

  private final ProcessorStorage<?> storage;
  private final Clock clock;
  private final Executor executor;
  private final OutboxListener listener;
  private final String processorId;
  private final UUID claimToken;
  private final Duration claimDuration;
  private final List<Long> ids;
  private boolean closed;
  private CompletableFuture<Void> timer;

  LeaseRenewal(
      ProcessorStorage<?> storage,
      Clock clock,
      Executor executor,
      OutboxListener listener,
      String processorId,
      UUID claimToken,
      Duration claimDuration,
      List<Long> ids) {
    this.storage = storage;
    this.clock = clock;
    this.executor = executor;
    this.listener = listener;
    this.processorId = processorId;
    this.claimToken = claimToken;
    this.claimDuration = claimDuration;
    this.ids = ids;
    schedule();
  }

  private synchronized void schedule() {
    if (closed) {
      return;
    }
    CompletableFuture<Void> next = clock.after(claimDuration.dividedBy(2));
    timer = next;
    next.thenRun(
        () -> {
          try {
            executor.execute(this::renew);
          } catch (RejectedExecutionException e) {
            log.warn(
                "could not renew the claim on {} entries for {}: the outbox is closing",
                ids.size(),
                processorId);
          }
        });
  }

  private void renew() {
    synchronized (this) {
      if (closed) {
        return;
      }
    }
    try {
      int renewed = storage.renew(claimToken, ids, clock.now().plus(claimDuration));
      listener.onLeaseRenewed(ids.size(), renewed);
      if (renewed < ids.size()) {
        log.warn(
            "renewed the claim on only {} of {} entries for {}; the others may be published twice",
            renewed,
            ids.size(),
            processorId);
      } else {
        log.debug("renewed the claim on {} entries for {}", renewed, processorId);
      }
    } catch (RuntimeException e) {
      log.warn("could not renew the claim on {} entries for {}", ids.size(), processorId, e);
    }
    schedule();
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (timer != null) {
      timer.cancel(false);
    }
  }
}
