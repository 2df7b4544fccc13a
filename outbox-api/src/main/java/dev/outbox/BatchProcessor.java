package dev.outbox;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass over the outbox: claim a bounded batch, publish it, delete what was sent, record what
 * failed; repeat while batches come back full and clean. Internal: {@code Outbox.pumpOutbox()} is
 * the API.
 *
 * <h2>Outage or poison</h2>
 *
 * A failure is charged to an entry (counts towards {@code maxAttempts}) only when the publisher is
 * known to work: some other entry of the same batch was delivered. When a call delivers nothing,
 * the batch is split in two halves, each published on its own. If neither delivers anything, the
 * broker is taken to be down: the whole batch is given back uncharged and the loop backs off. If
 * one half delivers, the failing entries are narrowed down by halving until each failing entry has
 * failed alone while others went through; those are charged. A single-entry batch that fails is
 * given back uncharged (nothing shows the broker works), and so is a batch whose call timed out.
 * Permanent failures are dead-lettered at once either way.
 *
 * <h2>Ordered storages</h2>
 *
 * Over a storage that keeps keys in order, a batch holds runs: consecutive entries of one key,
 * oldest first (one entry per key unless the publisher {@link Publisher#keepsOrder() keeps order}).
 * Halving never splits a run, and once an entry fails, the later entries of its key in the batch
 * are not tried again in this pass: they are given back uncharged, to follow their head when it is
 * retried. Only a key's first failure can be charged.
 */
final class BatchProcessor {

  private static final Logger log = LoggerFactory.getLogger(BatchProcessor.class);

  private final ProcessorStorage<?> storage;
  private final DeadLetterStorage deadLetters; // null when the storage keeps none
  private final PublishCall publish;
  private final String publisherName;
  private final Clock clock;
  private final OutboxConfig config;
  private final OutboxListener listener;
  private final Backoff retryBackoff;
  private final Executor renewalExecutor;
  private final boolean ordered;
  private final int maxPerKey;

  BatchProcessor(
      ProcessorStorage<?> storage,
      PublishCall publish,
      String publisherName,
      Clock clock,
      OutboxConfig config,
      OutboxListener listener,
      Backoff retryBackoff,
      Executor renewalExecutor) {
    this.storage = storage;
    this.deadLetters = storage instanceof DeadLetterStorage d ? d : null;
    this.publish = publish;
    this.publisherName = publisherName;
    this.clock = clock;
    this.config = config;
    this.listener = listener;
    this.retryBackoff = retryBackoff;
    this.renewalExecutor = renewalExecutor;
    this.ordered = storage.ordering().byKey();
    this.maxPerKey = ordered && publish.keepsOrder() ? config.batchSize() : 1;
  }

  /**
   * Processes batches until one comes back short, one has a failure, or {@code stop} says so. The
   * batch in hand is always finished: {@code stop} is read between batches only.
   */
  PumpResult pump(BooleanSupplier stop) {
    PumpResult total = PumpResult.EMPTY;
    while (!stop.getAsBoolean()) {
      PumpResult batch = processOneBatch();
      total = total.plus(batch);
      // Ordered, a short batch does not mean the backlog is drained: a key's next entries become
      // claimable only once its head is gone, so go on while batches come back at all.
      boolean full = batch.claimed() == config.batchSize() || (ordered && batch.claimed() > 0);
      boolean clean = batch.failed() == 0 && batch.deadLettered() == 0 && batch.released() == 0;
      if (!full || !clean) {
        // A short batch means the backlog is drained; a failure means the broker is unwell, and
        // the loop's interval (or backoff) is a better time to try again than right now.
        break;
      }
    }
    return total;
  }

  /** The fate of one batch's entries as its calls come back. */
  private static final class Results {
    final List<ClaimedEntry> sent = new ArrayList<>();
    final Map<ClaimedEntry, PublishException.Failure> charged = new LinkedHashMap<>();
    final Map<ClaimedEntry, PublishException.Failure> permanent = new LinkedHashMap<>();
    final Map<ClaimedEntry, Throwable> released = new LinkedHashMap<>();
    final Map<ClaimedEntry, Throwable> lastCause = new HashMap<>();

    boolean timedOut;
    Throwable fatal;

    boolean stopCalling() {
      return timedOut || fatal != null;
    }

    void release(List<ClaimedEntry> entries) {
      for (ClaimedEntry e : entries) {
        released.put(e, lastCause.get(e));
      }
    }

    void charge(ClaimedEntry e) {
      charged.put(e, new PublishException.Failure(lastCause.get(e), false));
    }
  }

  private PumpResult processOneBatch() {
    Instant start = clock.now();
    UUID token = UUID.randomUUID();
    List<ClaimedEntry> batch =
        storage.claim(
            new ClaimRequest(
                config.processorId(),
                token,
                start,
                start.plus(config.claimDuration()),
                config.batchSize(),
                ordered ? maxPerKey : config.batchSize()));
    if (batch.isEmpty()) {
      return PumpResult.EMPTY;
    }
    try {
      return processClaimed(start, token, batch);
    } finally {
      try {
        storage.finish(token);
      } catch (RuntimeException e) {
        log.warn("storage failed to finish claim {} of {}", token, config.processorId(), e);
      }
    }
  }

  private PumpResult processClaimed(Instant start, UUID token, List<ClaimedEntry> batch) {
    log.debug("claimed {} entries for {}", batch.size(), config.processorId());
    List<Long> ids = new ArrayList<>(batch.size());
    for (ClaimedEntry e : batch) {
      ids.add(e.id());
    }
    Results r = new Results();
    try (LeaseRenewal renewal =
        new LeaseRenewal(
            storage,
            clock,
            renewalExecutor,
            listener,
            config.processorId(),
            token,
            config.claimDuration(),
            ids)) {
      publishBatch(batch, r);
    }
    if (!r.sent.isEmpty()) {
      listener.onPublished(r.sent);
      List<Long> sentIds = new ArrayList<>(r.sent.size());
      for (ClaimedEntry e : r.sent) {
        sentIds.add(e.id());
      }
      int deleted = storage.delete(token, sentIds);
      if (deleted < sentIds.size()) {
        log.warn(
            "deleted only {} of {} published entries for {}: claims were lost, and the others"
                + " will be published again",
            deleted,
            sentIds.size(),
            config.processorId());
      }
    }
    int[] failedDeadReleased = record(token, r);
    PumpResult result =
        new PumpResult(
            batch.size(),
            r.sent.size(),
            failedDeadReleased[0],
            failedDeadReleased[1],
            failedDeadReleased[2]);
    Duration took = Duration.between(start, clock.now());
    listener.onBatch(
        result.claimed(), result.published(), result.failed(), result.deadLettered(), took);
    if (r.fatal != null) {
      throw sneaky(r.fatal);
    }
    return result;
  }

  private void publishBatch(List<ClaimedEntry> batch, Results r) {
    List<ClaimedEntry> suspects = attempt(batch, r);
    if (suspects.isEmpty()) {
      return;
    }
    List<List<ClaimedEntry>> halves = split(suspects);
    if (halves == null || r.stopCalling()) {
      r.release(suspects);
      return;
    }
    List<ClaimedEntry> failedA = attempt(halves.get(0), r);
    List<ClaimedEntry> b = halves.get(1);
    if (r.stopCalling()) {
      r.release(failedA);
      r.release(b);
      return;
    }
    List<ClaimedEntry> failedB = attempt(b, r);
    if (r.sent.isEmpty() || r.stopCalling()) {
      // Neither half got anything through: the broker is down, not the messages.
      r.release(failedA);
      r.release(failedB);
      return;
    }
    isolate(failedA, r);
    isolate(failedB, r);
  }

  /** The broker works (this batch delivered something): find the entries that fail alone. */
  private void isolate(List<ClaimedEntry> failed, Results r) {
    if (failed.isEmpty()) {
      return;
    }
    if (r.stopCalling()) {
      r.release(failed);
      return;
    }
    List<List<ClaimedEntry>> halves = split(failed);
    if (halves == null) {
      // One entry, or one key's run: its head failed alone while others went through.
      r.charge(failed.get(0));
      if (failed.size() > 1) {
        r.release(failed.subList(1, failed.size()));
      }
      return;
    }
    isolate(attempt(halves.get(0), r), r);
    isolate(attempt(halves.get(1), r), r);
  }

  /**
   * Two non-empty halves of {@code entries}, each in the original order, or null when it cannot be
   * split: one entry, or (ordered) one key's run. Ordered, a key's entries stay together.
   */
  private List<List<ClaimedEntry>> split(List<ClaimedEntry> entries) {
    if (entries.size() < 2) {
      return null;
    }
    if (!ordered) {
      int mid = entries.size() / 2;
      return List.of(entries.subList(0, mid), entries.subList(mid, entries.size()));
    }
    Map<Object, Integer> sizes = new LinkedHashMap<>();
    for (ClaimedEntry e : entries) {
      sizes.merge(orderKey(e), 1, Integer::sum);
    }
    if (sizes.size() < 2) {
      return null;
    }
    // Keys go to the first half while it stays within half the entries (the first key always does);
    // with two or more keys they cannot all fit, so the second half is never empty.
    Set<Object> first = new HashSet<>();
    int taken = 0;
    for (Map.Entry<Object, Integer> k : sizes.entrySet()) {
      if (!first.isEmpty() && taken + k.getValue() > entries.size() / 2) {
        break;
      }
      first.add(k.getKey());
      taken += k.getValue();
    }
    List<ClaimedEntry> a = new ArrayList<>();
    List<ClaimedEntry> b = new ArrayList<>();
    for (ClaimedEntry e : entries) {
      (first.contains(orderKey(e)) ? a : b).add(e);
    }
    return List.of(a, b);
  }

  /** What keeps entries in order: namespace and key; an entry without a key is its own. */
  private static Object orderKey(ClaimedEntry e) {
    byte[] key = e.message().key();
    if (key == null) {
      return e; // identity: never shared
    }
    return List.of(e.message().namespace(), java.nio.ByteBuffer.wrap(key));
  }

  /**
   * Publishes entries in one call and files what is certain: sent entries, permanent failures, and
   * retryable failures of a call that delivered something (charged). Returns the entries that
   * failed retryably in a call that delivered nothing: those are suspects, not yet charged.
   */
  private List<ClaimedEntry> attempt(List<ClaimedEntry> entries, Results r) {
    PublishCall.Outcome outcome = publish.call(entries);
    if (outcome instanceof PublishCall.Sent) {
      r.sent.addAll(entries);
      return List.of();
    }
    if (outcome instanceof PublishCall.SomeFailed some) {
      Map<Long, PublishException.Failure> failures = some.failures();
      Set<Long> unknown = unknownIds(entries, failures);
      if (unknown.isEmpty()) {
        List<ClaimedEntry> sent = new ArrayList<>();
        List<ClaimedEntry> retryable = new ArrayList<>();
        List<ClaimedEntry> followers = new ArrayList<>();
        Set<Object> failedHere = new HashSet<>();
        Set<Object> permanentHeads = new HashSet<>();
        for (ClaimedEntry e : entries) {
          PublishException.Failure f = failures.get(e.id());
          Object key = ordered ? orderKey(e) : null;
          boolean follower = ordered && failedHere.contains(key);
          if (f == null) {
            if (follower) {
              log.error(
                  "publisher {} reported entry {} sent after an earlier entry of its key failed"
                      + " in the same call: it does not keep order (keepsOrder() must be false)",
                  publisherName,
                  e.id());
            }
            sent.add(e);
            continue;
          }
          r.lastCause.put(e, f.cause());
          if (ordered) {
            failedHere.add(key);
          }
          if (follower) {
            followers.add(e);
          } else if (f.permanent()) {
            r.permanent.put(e, f);
            if (ordered) {
              permanentHeads.add(key);
            }
          } else {
            retryable.add(e);
          }
        }
        r.sent.addAll(sent);
        if (sent.isEmpty()) {
          // Nothing went through: every failure is a suspect, runs kept whole for halving.
          // A run whose head failed for good waits for its dead-lettering, untried.
          List<ClaimedEntry> suspects = new ArrayList<>();
          List<ClaimedEntry> waiting = new ArrayList<>();
          for (ClaimedEntry e : entries) {
            if (r.permanent.containsKey(e)) {
              continue;
            }
            (ordered && permanentHeads.contains(orderKey(e)) ? waiting : suspects).add(e);
          }
          r.release(waiting);
          return suspects;
        }
        retryable.forEach(r::charge);
        r.release(followers);
        return List.of();
      }
      // Fail closed: a publisher that names entries it was never given may be confused about
      // which it sent, so none of them counts as sent.
      outcome =
          new PublishCall.NothingSent(
              new OutboxException(
                  "publisher "
                      + publisherName
                      + " reported failures for entries "
                      + unknown
                      + ", which are not in the batch it was given; no entry of that call counts"
                      + " as sent"),
              false);
      log.error(((PublishCall.NothingSent) outcome).cause().getMessage());
    }
    PublishCall.NothingSent nothing = (PublishCall.NothingSent) outcome;
    Throwable cause = nothing.cause();
    if (nothing.timedOut()) {
      r.timedOut = true;
      log.warn(cause.getMessage());
    } else if (cause instanceof VirtualMachineError && !(cause instanceof StackOverflowError)) {
      r.fatal = cause;
    } else if (cause instanceof Error) {
      log.error(
          "publisher {} threw {} on a call of {} entries; the call counts as failed",
          publisherName,
          cause.getClass().getName(),
          entries.size(),
          cause);
    } else {
      log.debug("publisher {} failed a call of {} entries", publisherName, entries.size(), cause);
    }
    for (ClaimedEntry e : entries) {
      r.lastCause.put(e, cause);
    }
    return entries;
  }

  private static Set<Long> unknownIds(
      List<ClaimedEntry> entries, Map<Long, PublishException.Failure> failures) {
    Set<Long> inCall = new HashSet<>();
    for (ClaimedEntry e : entries) {
      inCall.add(e.id());
    }
    Set<Long> unknown = new java.util.TreeSet<>();
    for (Long id : failures.keySet()) {
      if (!inCall.contains(id)) {
        unknown.add(id);
      }
    }
    return unknown;
  }

  /** Records charged, permanent and released entries; returns {failed, dead, released}. */
  private int[] record(UUID token, Results r) {
    Instant now = clock.now();
    List<FailedEntry> retry = new ArrayList<>();
    List<FailedEntry> dead = new ArrayList<>();
    Map<ClaimedEntry, PublishException.Failure> failures = new LinkedHashMap<>(r.charged);
    failures.putAll(r.permanent);
    for (Map.Entry<ClaimedEntry, PublishException.Failure> f : failures.entrySet()) {
      ClaimedEntry entry = f.getKey();
      Throwable cause = f.getValue().cause();
      int attempts = entry.attempts() + 1;
      FailedEntry failed =
          new FailedEntry(
              entry.id(), attempts, now.plus(retryBackoff.delay(attempts)), describe(cause));
      boolean exhausted = config.maxAttempts() > 0 && attempts >= config.maxAttempts();
      if ((exhausted || f.getValue().permanent()) && deadLetters != null) {
        dead.add(failed);
        listener.onDeadLettered(entry, failed, cause);
      } else {
        retry.add(failed);
        listener.onFailed(entry, failed, cause);
      }
    }
    List<FailedEntry> released = new ArrayList<>();
    Throwable releaseCause = null;
    for (Map.Entry<ClaimedEntry, Throwable> e : r.released.entrySet()) {
      // Not charged: the attempt count stays; available again at once (the loop backs off).
      released.add(
          new FailedEntry(e.getKey().id(), e.getKey().attempts(), now, describe(e.getValue())));
      releaseCause = releaseCause == null ? e.getValue() : releaseCause;
    }
    retry.addAll(released);
    if (!retry.isEmpty()) {
      storage.release(token, retry);
    }
    if (!retry.isEmpty() && retry.size() > released.size()) {
      log.info(
          "{} entries failed to publish for {} and will be retried; first: {}",
          retry.size() - released.size(),
          config.processorId(),
          retry.get(0).error());
    }
    if (!released.isEmpty()) {
      Throwable cause = releaseCause;
      listener.onReleased(List.copyOf(r.released.keySet()), cause);
      log.warn(
          "publisher {} delivered nothing of {} entries for {} (a broker outage?); they were given"
              + " back without charging an attempt: {}",
          publisherName,
          released.size(),
          config.processorId(),
          released.get(0).error());
    }
    if (!dead.isEmpty()) {
      deadLetters.deadLetter(token, dead, now);
      log.warn(
          "{} entries moved to the dead letters for {}; first: {}",
          dead.size(),
          config.processorId(),
          dead.get(0).error());
    }
    return new int[] {retry.size() - released.size(), dead.size(), released.size()};
  }

  /**
   * The failure's description as every storage can keep it: class and message, NULs and lone
   * surrogates replaced, at most {@link FailedEntry#MAX_ERROR_LENGTH} characters.
   */
  static String describe(Throwable t) {
    if (t == null) {
      return "unknown failure";
    }
    String text =
        Texts.sanitize(
            t.getClass().getName() + (t.getMessage() == null ? "" : ": " + t.getMessage()));
    if (text.length() > FailedEntry.MAX_ERROR_LENGTH) {
      String marker = "... (shortened)";
      int end = FailedEntry.MAX_ERROR_LENGTH - marker.length();
      if (Character.isHighSurrogate(text.charAt(end - 1))) {
        end--; // never cut a surrogate pair in two
      }
      text = text.substring(0, end) + marker;
    }
    return text;
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> RuntimeException sneaky(Throwable t) throws E {
    throw (E) t;
  }
}
