package dev.outbox.internal;

import dev.outbox.ClaimedEntry;
import dev.outbox.Clock;
import dev.outbox.FailedEntry;
import dev.outbox.OutboxConfig;
import dev.outbox.OutboxListener;
import dev.outbox.ProcessorStorage;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import dev.outbox.PumpResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass over the outbox: claim a bounded batch, publish it, delete what was sent, record what
 * failed; repeat while batches come back full. Internal: {@code Outbox.pumpOutbox()} is the API.
 */
public final class BatchProcessor {

  private static final Logger log = LoggerFactory.getLogger(BatchProcessor.class);

  private final ProcessorStorage<?> storage;
  private final Publisher publisher;
  private final Clock clock;
  private final OutboxConfig config;
  private final OutboxListener listener;
  private final Backoff retryBackoff;
  private final Executor renewalExecutor;

  public BatchProcessor(
      ProcessorStorage<?> storage,
      Publisher publisher,
      Clock clock,
      OutboxConfig config,
      OutboxListener listener,
      Backoff retryBackoff,
      Executor renewalExecutor) {
    this.storage = storage;
    this.publisher = publisher;
    this.clock = clock;
    this.config = config;
    this.listener = listener;
    this.retryBackoff = retryBackoff;
    this.renewalExecutor = renewalExecutor;
  }

  /**
   * Processes batches until one comes back short, one has a failure, or {@code stop} says so. The
   * batch in hand is always finished: {@code stop} is read between batches only.
   */
  public PumpResult pump(BooleanSupplier stop) {
    PumpResult total = PumpResult.EMPTY;
    while (!stop.getAsBoolean()) {
      PumpResult batch = processOneBatch();
      total = total.plus(batch);
      boolean full = batch.claimed() == config.batchSize();
      boolean clean = batch.failed() == 0 && batch.deadLettered() == 0;
      if (!full || !clean) {
        // A short batch means the backlog is drained; a failure means the broker is unwell, and
        // the loop's interval (or backoff) is a better time to try again than right now.
        break;
      }
    }
    return total;
  }

  private PumpResult processOneBatch() {
    Instant start = clock.now();
    List<ClaimedEntry> batch =
        storage.claim(
            config.processorId(), start, start.plus(config.claimDuration()), config.batchSize());
    if (batch.isEmpty()) {
      return PumpResult.EMPTY;
    }
    log.debug("claimed {} entries for {}", batch.size(), config.processorId());
    Map<Long, PublishException.Failure> failures = publishWithRenewal(batch);

    List<ClaimedEntry> sent = new ArrayList<>(batch.size() - failures.size());
    List<Long> sentIds = new ArrayList<>(batch.size() - failures.size());
    for (ClaimedEntry e : batch) {
      if (!failures.containsKey(e.id())) {
        sent.add(e);
        sentIds.add(e.id());
      }
    }
    if (!sent.isEmpty()) {
      Listeners.call(log, () -> listener.onPublished(sent));
      int deleted = storage.delete(config.processorId(), sentIds);
      if (deleted < sentIds.size()) {
        log.warn(
            "deleted only {} of {} published entries for {}: claims were lost, and the others"
                + " will be published again",
            deleted,
            sentIds.size(),
            config.processorId());
      }
    }
    int[] failedAndDead = recordFailures(batch, failures);
    PumpResult result =
        new PumpResult(batch.size(), sent.size(), failedAndDead[0], failedAndDead[1]);
    Duration took = Duration.between(start, clock.now());
    Listeners.call(
        log,
        () ->
            listener.onBatch(
                result.claimed(),
                result.published(),
                result.failed(),
                result.deadLettered(),
                took));
    return result;
  }

  /** Publishes the batch and returns its failures by entry id (empty when all were sent). */
  private Map<Long, PublishException.Failure> publishWithRenewal(List<ClaimedEntry> batch) {
    List<Long> ids = new ArrayList<>(batch.size());
    for (ClaimedEntry e : batch) {
      ids.add(e.id());
    }
    LeaseRenewal renewal =
        new LeaseRenewal(
            storage,
            clock,
            renewalExecutor,
            listener,
            config.processorId(),
            config.claimDuration(),
            ids);
    try {
      publisher.publish(batch);
      return Map.of();
    } catch (PublishException e) {
      return onlyThisBatch(e.failures(), ids);
    } catch (RuntimeException e) {
      log.warn(
          "publisher failed a whole batch of {} entries for {}",
          batch.size(),
          config.processorId(),
          e);
      Map<Long, PublishException.Failure> all = new java.util.LinkedHashMap<>();
      PublishException.Failure failure = new PublishException.Failure(e, false);
      for (Long id : ids) {
        all.put(id, failure);
      }
      return all;
    } finally {
      renewal.close();
    }
  }

  private Map<Long, PublishException.Failure> onlyThisBatch(
      Map<Long, PublishException.Failure> failures, List<Long> ids) {
    java.util.Set<Long> inBatch = new java.util.HashSet<>(ids);
    for (Long id : failures.keySet()) {
      if (!inBatch.contains(id)) {
        // A publisher bug: it reported an id we never gave it. Say so instead of guessing.
        log.error(
            "publisher {} reported a failure for entry {}, which is not in the batch; ignored",
            publisher.getClass().getName(),
            id);
      }
    }
    return failures;
  }

  private int[] recordFailures(
      List<ClaimedEntry> batch, Map<Long, PublishException.Failure> failures) {
    if (failures.isEmpty()) {
      return new int[] {0, 0};
    }
    Instant now = clock.now();
    List<FailedEntry> retry = new ArrayList<>();
    List<FailedEntry> dead = new ArrayList<>();
    for (ClaimedEntry entry : batch) {
      PublishException.Failure f = failures.get(entry.id());
      if (f == null) {
        continue;
      }
      int attempts = entry.attempts() + 1;
      FailedEntry failed =
          new FailedEntry(
              entry.id(), attempts, now.plus(retryBackoff.delay(attempts)), describe(f.cause()));
      boolean exhausted = config.maxAttempts() > 0 && attempts >= config.maxAttempts();
      if ((exhausted || f.permanent()) && storage.supportsDeadLetters()) {
        dead.add(failed);
        Listeners.call(log, () -> listener.onDeadLettered(entry, failed, f.cause()));
      } else {
        retry.add(failed);
        Listeners.call(log, () -> listener.onFailed(entry, failed, f.cause()));
      }
    }
    if (!retry.isEmpty()) {
      storage.fail(config.processorId(), retry);
      log.info(
          "{} entries failed to publish for {} and will be retried; first: {}",
          retry.size(),
          config.processorId(),
          retry.get(0).error());
    }
    if (!dead.isEmpty()) {
      storage.deadLetter(config.processorId(), dead, now);
      log.warn(
          "{} entries moved to the dead letters for {}; first: {}",
          dead.size(),
          config.processorId(),
          dead.get(0).error());
    }
    return new int[] {retry.size(), dead.size()};
  }

  static String describe(Throwable t) {
    String text = t.getClass().getName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    if (text.length() > FailedEntry.MAX_ERROR_LENGTH) {
      String marker = "... (shortened)";
      text = text.substring(0, FailedEntry.MAX_ERROR_LENGTH - marker.length()) + marker;
    }
    return text;
  }
}
