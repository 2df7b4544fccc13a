package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.DeadLetterStorage;
import dev.outbox.FailedEntry;
import dev.outbox.Message;
import dev.outbox.NewEntry;
import dev.outbox.Outbox;
import dev.outbox.OutboxStats;
import dev.outbox.ProcessorStorage;
import dev.outbox.PumpResult;
import dev.outbox.StatisticsStorage;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What every {@link ProcessorStorage} must do. An adapter's test class extends this, provides an
 * empty storage and a way to run a committed transaction, and inherits every test:
 *
 * <pre>{@code
 * class PostgresStorageTest extends ProcessorStorageContract<Handle> {
 *   protected ProcessorStorage<Handle> newEmptyStorage() { truncate(); return storage; }
 *   protected void inTransaction(Consumer<Handle> work) { jdbi.useTransaction(work::accept); }
 *   protected void inRolledBackTransaction(Consumer<Handle> work) { ... rollback ... }
 * }
 * }</pre>
 *
 * <p>Time is passed explicitly (from {@link FakeClock#DEFAULT_START} onwards), never read from a
 * real clock, so every lease and backoff decision is deterministic. Instants are compared at
 * microsecond precision, the finest most databases keep.
 *
 * @param <T> the storage's transaction handle
 */
public abstract class ProcessorStorageContract<T> {

  /** The start of every test's timeline. */
  protected static final Instant T0 = FakeClock.DEFAULT_START;

  private static final Duration LEASE = Duration.ofSeconds(30);

  /** The storage under test, fresh for every test. */
  protected ProcessorStorage<T> storage;

  private final Map<String, UUID> tokens = new HashMap<>();

  /**
   * Returns a storage with no entries and no dead letters. Called before every test; the same
   * instance may be returned each time if it is emptied.
   */
  protected abstract ProcessorStorage<T> newEmptyStorage();

  /** Runs {@code work} in a transaction that commits. */
  protected abstract void inTransaction(Consumer<T> work);

  /**
   * Runs {@code work} in a transaction that rolls back. The default skips the rollback test, for
   * storages without transactions; database adapters must override it.
   */
  protected void inRolledBackTransaction(Consumer<T> work) {
    assumeThat(false).as("this storage has no transactions to roll back").isTrue();
  }

  @BeforeEach
  void freshStorage() {
    storage = newEmptyStorage();
    tokens.clear();
  }

  // ---------------------------------------------------------------- helpers for subclasses

  /** Publishes messages in one committed transaction, created at {@code now}. */
  protected void publish(Instant now, List<Message> messages) {
    List<NewEntry> entries = newEntries(now, messages);
    inTransaction(txn -> storage.publish(txn, entries));
  }

  /** The messages as new entries created at {@code now}, each with a fresh message id. */
  protected static List<NewEntry> newEntries(Instant now, List<Message> messages) {
    return messages.stream().map(m -> new NewEntry(UUID.randomUUID(), m, now)).toList();
  }

  /** The token of the last claim {@link #claim} made for this processor. */
  protected UUID token(String processor) {
    UUID token = tokens.get(processor);
    if (token == null) {
      throw new AssertionError("the test never claimed for " + processor);
    }
    return token;
  }

  private DeadLetterStorage dead() {
    return (DeadLetterStorage) storage;
  }

  private StatisticsStorage stats() {
    assumeThat(storage).as("storage keeps statistics").isInstanceOf(StatisticsStorage.class);
    return (StatisticsStorage) storage;
  }

  private static OutboxStats stats(
      long pending, long claimed, long failing, long dead, Duration oldest) {
    return OutboxStats.builder()
        .pending(pending)
        .claimed(claimed)
        .failing(failing)
        .deadLetters(dead)
        .oldestPendingAge(oldest)
        .build();
  }

  /**
   * {@code n} simple messages in namespace {@code ns}, payloads {@code "ns-0"}, {@code "ns-1"}...
   */
  protected static List<Message> messages(String ns, int n) {
    return IntStream.range(0, n)
        .mapToObj(
            i -> Message.builder().namespace(ns).key("k" + (i % 7)).payload(ns + "-" + i).build())
        .toList();
  }

  private static List<Long> ids(List<ClaimedEntry> entries) {
    return entries.stream().map(ClaimedEntry::id).toList();
  }

  private static List<String> payloads(List<ClaimedEntry> entries) {
    return entries.stream().map(e -> e.message().payloadAsString()).toList();
  }

  private List<ClaimedEntry> claim(String processor, Instant now, int limit) {
    return claim(processor, now, now.plus(LEASE), limit);
  }

  /** Claims with a fresh token, remembered as {@link #token}{@code (processor)}. */
  private List<ClaimedEntry> claim(String processor, Instant now, Instant deadline, int limit) {
    UUID token = UUID.randomUUID();
    tokens.put(processor, token);
    return storage.claim(new ClaimRequest(processor, token, now, deadline, limit));
  }

  private static Instant micros(Instant t) {
    return t.truncatedTo(ChronoUnit.MICROS);
  }

  // ---------------------------------------------------------------- publish and claim

  @Test
  void claimReturnsPublishedMessagesOldestFirstByteExact() {
    byte[] allBytes = new byte[256];
    for (int i = 0; i < allBytes.length; i++) {
      allBytes[i] = (byte) i;
    }
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    headers.put("content-type", "application/json; charset=utf-8");
    headers.put("unicode ✓", "Grüße, 世界, \"quotes\" and \\ backslash\nnewline");
    headers.put("empty", "");
    List<Message> written =
        List.of(
            Message.builder()
                .namespace("orders")
                .key(allBytes)
                .payload(allBytes)
                .headers(headers)
                .build(),
            Message.builder().namespace("orders").key(new byte[0]).payload("{\"id\":2}").build(),
            Message.builder().namespace("payments").payload(new byte[0]).build(),
            Message.builder().namespace("payments").key("ключ").payload("π ≈ 3.14159").build());
    publish(T0, written);

    List<ClaimedEntry> claimed = claim("p1", T0, 10);

    assertThat(claimed).hasSize(4);
    assertThat(ids(claimed)).isSorted().doesNotHaveDuplicates();
    for (int i = 0; i < written.size(); i++) {
      ClaimedEntry e = claimed.get(i);
      assertThat(e.message()).as("message %d", i).isEqualTo(written.get(i));
      assertThat(e.message().headers()).as("headers of %d", i).isEqualTo(written.get(i).headers());
      assertThat(micros(e.createdAt())).isEqualTo(micros(T0));
      assertThat(e.attempts()).isZero();
    }
    assertThat(claimed.get(0).message().key()).isEqualTo(allBytes);
    assertThat(claimed.get(1).message().key()).as("empty key stays empty, not null").isEmpty();
    assertThat(claimed.get(2).message().key()).as("no key stays null").isNull();
    assertThat(claimed.get(2).message().payload()).isEmpty();
  }

  @Test
  void messagesOfLaterTransactionsGetLargerIds() {
    publish(T0, messages("a", 3));
    publish(T0, messages("b", 3));

    List<ClaimedEntry> claimed = claim("p1", T0, 10);

    assertThat(payloads(claimed)).containsExactly("a-0", "a-1", "a-2", "b-0", "b-1", "b-2");
    assertThat(ids(claimed)).isSorted();
  }

  @Test
  void aLargeBatchIsWrittenCompletelyAndInOrder() {
    publish(T0, messages("bulk", 1500));

    List<ClaimedEntry> claimed = claim("p1", T0, 2000);

    assertThat(claimed).hasSize(1500);
    assertThat(payloads(claimed))
        .containsExactlyElementsOf(IntStream.range(0, 1500).mapToObj(i -> "bulk-" + i).toList());
  }

  @Test
  void rolledBackPublishLeavesNoEntry() {
    List<NewEntry> rolledBack = newEntries(T0, messages("rolled-back", 3));
    inRolledBackTransaction(txn -> storage.publish(txn, rolledBack));
    publish(T0, messages("committed", 1));

    assertThat(payloads(claim("p1", T0, 10))).containsExactly("committed-0");
  }

  @Test
  void claimIsBoundedAndProcessorsShareTheBacklog() {
    publish(T0, messages("m", 10));

    List<ClaimedEntry> first = claim("p1", T0, 4);
    List<ClaimedEntry> second = claim("p2", T0, 4);
    List<ClaimedEntry> third = claim("p3", T0, 4);
    List<ClaimedEntry> fourth = claim("p4", T0, 4);

    assertThat(payloads(first)).containsExactly("m-0", "m-1", "m-2", "m-3");
    assertThat(payloads(second)).containsExactly("m-4", "m-5", "m-6", "m-7");
    assertThat(payloads(third)).containsExactly("m-8", "m-9");
    assertThat(fourth).isEmpty();
  }

  @Test
  void claimOnAnEmptyOutboxReturnsNothing() {
    assertThat(claim("p1", T0, 10)).isEmpty();
  }

  @Test
  void aClaimHidesEntriesUntilItsDeadline() {
    publish(T0, messages("m", 3));
    Instant deadline = T0.plus(LEASE);
    assertThat(claim("p1", T0, deadline, 10)).hasSize(3);

    assertThat(claim("p2", deadline.minusMillis(1), 10)).as("before the deadline").isEmpty();
    List<ClaimedEntry> takenOver = claim("p2", deadline.plusMillis(1), 10);

    assertThat(payloads(takenOver)).containsExactly("m-0", "m-1", "m-2");
  }

  @Test
  void freshEntriesAreClaimableWhateverTheWritersOrClaimersClockSays() {
    // A writer two minutes fast must not delay its own messages; a claimer whose clock stepped
    // back an hour must not stall.
    publish(T0.plusSeconds(120), messages("m", 1));

    List<ClaimedEntry> claimed = claim("p1", T0.minusSeconds(3600), 10);

    assertThat(payloads(claimed)).containsExactly("m-0");
    assertThat(micros(claimed.get(0).createdAt())).isEqualTo(micros(T0.plusSeconds(120)));
  }

  @Test
  void messageIdsAreKeptExactly() {
    List<NewEntry> entries = newEntries(T0, messages("m", 3));
    inTransaction(txn -> storage.publish(txn, entries));

    assertThat(claim("p1", T0, 10))
        .extracting(ClaimedEntry::messageId)
        .containsExactlyElementsOf(entries.stream().map(NewEntry::messageId).toList());
  }

  @Test
  void twoClaimsUnderOneProcessorIdCannotChangeEachOthersEntries() {
    // Two outboxes sharing a processor id (a copied config, a restarted pod): the stale one's
    // late changes must not touch what the live one now holds.
    publish(T0, messages("m", 3));
    List<Long> first = ids(claim("shared", T0, 10));
    UUID stale = token("shared");
    Instant takeover = T0.plus(LEASE).plusSeconds(1);
    List<Long> second = ids(claim("shared", takeover, 10));
    UUID live = token("shared");
    assertThat(second).isEqualTo(first);

    assertThat(storage.delete(stale, List.of(first.get(0)))).as("stale delete").isZero();
    assertThat(storage.renew(stale, first, takeover.plus(LEASE.multipliedBy(10))))
        .as("stale renew")
        .isZero();
    assertThat(storage.release(stale, List.of(new FailedEntry(first.get(1), 7, T0, "stale"))))
        .as("stale release")
        .isZero();
    if (storage instanceof DeadLetterStorage d) {
      assertThat(d.deadLetter(stale, List.of(new FailedEntry(first.get(2), 7, T0, "x")), T0))
          .as("stale dead-lettering")
          .isZero();
      assertThat(d.deadLetters(0, 10)).isEmpty();
    }
    assertThat(claim("other", takeover.plus(LEASE).minusSeconds(1), 10))
        .as("the live claim still holds")
        .isEmpty();
    assertThat(storage.delete(live, second)).isEqualTo(3);
  }

  // ---------------------------------------------------------------- delete and renew (fenced)

  @Test
  void deleteRemovesOnlyTheGivenEntries() {
    publish(T0, messages("m", 4));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);

    int deleted = storage.delete(token("p1"), List.of(claimed.get(0).id(), claimed.get(2).id()));

    assertThat(deleted).isEqualTo(2);
    storage.renew(token("p1"), ids(claimed), T0); // release the rest
    assertThat(payloads(claim("p2", T0, 10))).containsExactly("m-1", "m-3");
  }

  @Test
  void deleteIsFencedByTheClaimToken() {
    publish(T0, messages("m", 2));
    List<Long> ids = ids(claim("p1", T0, 10));
    List<Long> takenOver = ids(claim("p2", T0.plus(LEASE).plusSeconds(1), 10));
    assertThat(takenOver).isEqualTo(ids);

    assertThat(storage.delete(token("p1"), ids)).as("the old owner deletes nothing").isZero();
    assertThat(storage.delete(token("p2"), ids)).isEqualTo(2);
    assertThat(claim("p3", T0.plus(LEASE.multipliedBy(3)), 10)).isEmpty();
  }

  @Test
  void deleteOfUnknownOrNoIdsDeletesNothing() {
    assertThat(storage.delete(UUID.randomUUID(), List.of())).isZero();
    assertThat(storage.delete(UUID.randomUUID(), List.of(424242L, 424243L))).isZero();
  }

  @Test
  void renewExtendsOnlyTheClaimsOwnEntries() {
    publish(T0, messages("m", 2));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);
    Instant later = T0.plus(LEASE.multipliedBy(3));

    assertThat(storage.renew(UUID.randomUUID(), ids(claimed), later))
        .as("another token renews nothing")
        .isZero();
    assertThat(storage.renew(token("p1"), ids(claimed), later)).isEqualTo(2);

    assertThat(claim("p2", T0.plus(LEASE).plusSeconds(1), 10))
        .as("renewed past the lease")
        .isEmpty();
    assertThat(claim("p2", later, 10)).hasSize(2);
  }

  @Test
  void renewingToNowReleasesTheEntries() {
    publish(T0, messages("m", 2));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);

    storage.renew(token("p1"), ids(claimed), T0);

    assertThat(claim("p2", T0, 10)).hasSize(2);
  }

  // ---------------------------------------------------------------- failures and backoff

  @Test
  void aFailedEntryIsHiddenUntilItsRetryTimeAndKeepsItsAttempts() {
    publish(T0, messages("m", 2));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);
    Instant retryAt = T0.plusSeconds(10);

    int failed =
        storage.release(
            token("p1"), List.of(new FailedEntry(claimed.get(0).id(), 1, retryAt, "boom")));
    storage.delete(token("p1"), List.of(claimed.get(1).id()));

    assertThat(failed).isEqualTo(1);
    assertThat(claim("p2", retryAt.minusMillis(1), 10)).as("still backing off").isEmpty();
    List<ClaimedEntry> retried = claim("p2", retryAt, 10);
    assertThat(retried).hasSize(1);
    assertThat(retried.get(0).id()).isEqualTo(claimed.get(0).id());
    assertThat(retried.get(0).attempts()).isEqualTo(1);
    assertThat(retried.get(0).message()).isEqualTo(claimed.get(0).message());
  }

  @Test
  void releaseIsFencedByTheClaimToken() {
    publish(T0, messages("m", 1));
    long id = claim("p1", T0, 10).get(0).id();
    Instant takeover = T0.plus(LEASE).plusSeconds(1);
    claim("p2", takeover, 10);

    int failed = storage.release(token("p1"), List.of(new FailedEntry(id, 1, T0, "late failure")));

    assertThat(failed).isZero();
    assertThat(claim("p3", takeover, 10)).as("p2's claim still holds").isEmpty();
  }

  @Test
  void attemptsAccumulateOverSeveralFailures() {
    publish(T0, messages("m", 1));
    Instant t = T0;
    for (int attempt = 1; attempt <= 3; attempt++) {
      ClaimedEntry e = claim("p1", t, 10).get(0);
      assertThat(e.attempts()).isEqualTo(attempt - 1);
      t = t.plusSeconds(1);
      storage.release(
          token("p1"), List.of(new FailedEntry(e.id(), attempt, t, "failure " + attempt)));
    }
    assertThat(claim("p1", t, 10).get(0).attempts()).isEqualTo(3);
  }

  // ---------------------------------------------------------------- dead letters

  private void assumeDeadLetters() {
    assumeThat(storage).as("storage keeps dead letters").isInstanceOf(DeadLetterStorage.class);
  }

  @Test
  void deadLetteringMovesAnEntryOutOfTheOutboxWithItsError() {
    assumeDeadLetters();
    publish(T0, messages("m", 2));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);
    ClaimedEntry victim = claimed.get(0);
    Instant at = T0.plusSeconds(3);

    int moved =
        dead().deadLetter(token("p1"), List.of(new FailedEntry(victim.id(), 5, at, "too big")), at);

    assertThat(moved).isEqualTo(1);
    List<DeadLetter> dead = dead().deadLetters(0, 10);
    assertThat(dead).hasSize(1);
    DeadLetter d = dead.get(0);
    assertThat(d.id()).isEqualTo(victim.id());
    assertThat(d.messageId()).isEqualTo(victim.messageId());
    assertThat(d.message()).isEqualTo(victim.message());
    assertThat(d.attempts()).isEqualTo(5);
    assertThat(d.lastError()).isEqualTo("too big");
    assertThat(micros(d.deadLetteredAt())).isEqualTo(micros(at));
    assertThat(micros(d.createdAt())).isEqualTo(micros(T0));
    storage.renew(token("p1"), List.of(claimed.get(1).id()), T0);
    assertThat(payloads(claim("p2", T0.plus(LEASE.multipliedBy(10)), 10)))
        .as("only the healthy entry is left")
        .containsExactly("m-1");
  }

  @Test
  void deadLetteringIsFencedByTheClaimToken() {
    assumeDeadLetters();
    publish(T0, messages("m", 1));
    long id = claim("p1", T0, 10).get(0).id();
    claim("p2", T0.plus(LEASE).plusSeconds(1), 10);

    assertThat(dead().deadLetter(token("p1"), List.of(new FailedEntry(id, 1, T0, "x")), T0))
        .isZero();
    assertThat(dead().deadLetters(0, 10)).isEmpty();
  }

  @Test
  void deadLettersArePagedSmallestIdFirst() {
    assumeDeadLetters();
    publish(T0, messages("m", 5));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);
    List<FailedEntry> failures = new ArrayList<>();
    for (ClaimedEntry e : claimed) {
      failures.add(new FailedEntry(e.id(), 1, T0, "error of " + e.message().payloadAsString()));
    }
    dead().deadLetter(token("p1"), failures, T0);

    List<DeadLetter> page1 = dead().deadLetters(0, 2);
    List<DeadLetter> page2 = dead().deadLetters(page1.get(1).id(), 2);
    List<DeadLetter> page3 = dead().deadLetters(page2.get(1).id(), 2);

    assertThat(page1)
        .extracting(DeadLetter::lastError)
        .containsExactly("error of m-0", "error of m-1");
    assertThat(page2)
        .extracting(DeadLetter::lastError)
        .containsExactly("error of m-2", "error of m-3");
    assertThat(page3).extracting(DeadLetter::lastError).containsExactly("error of m-4");
  }

  @Test
  void requeueMovesADeadLetterBackWithAttemptsReset() {
    assumeDeadLetters();
    publish(T0, messages("m", 2));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);
    dead()
        .deadLetter(
            token("p1"),
            List.of(
                new FailedEntry(claimed.get(0).id(), 3, T0, "a"),
                new FailedEntry(claimed.get(1).id(), 3, T0, "b")),
            T0);
    Instant later = T0.plusSeconds(60);

    int requeued = dead().requeueDeadLetters(List.of(claimed.get(1).id(), 99999L), later);

    assertThat(requeued).isEqualTo(1);
    assertThat(dead().deadLetters(0, 10))
        .extracting(DeadLetter::id)
        .containsExactly(claimed.get(0).id());
    List<ClaimedEntry> back = claim("p2", T0, 10);
    assertThat(back).as("available at once, whatever the clock").hasSize(1);
    assertThat(back.get(0).id()).isEqualTo(claimed.get(1).id());
    assertThat(back.get(0).messageId()).isEqualTo(claimed.get(1).messageId());
    assertThat(back.get(0).attempts()).isZero();
    assertThat(back.get(0).message()).isEqualTo(claimed.get(1).message());
  }

  @Test
  void requeueAllAndPurgeAllEmptyTheDeadLetters() {
    assumeDeadLetters();
    publish(T0, messages("m", 4));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);
    List<FailedEntry> failures = new ArrayList<>();
    for (ClaimedEntry e : claimed) {
      failures.add(new FailedEntry(e.id(), 1, T0, "x"));
    }
    dead().deadLetter(token("p1"), failures.subList(0, 2), T0);
    dead().deadLetter(token("p1"), failures.subList(2, 4), T0);

    assertThat(dead().purgeDeadLetters(List.of(claimed.get(0).id()))).isEqualTo(1);
    assertThat(dead().requeueAllDeadLetters(T0)).isEqualTo(3);
    assertThat(dead().deadLetters(0, 10)).isEmpty();
    List<ClaimedEntry> back = claim("p2", T0, 10);
    assertThat(payloads(back)).containsExactly("m-1", "m-2", "m-3");

    dead()
        .deadLetter(
            token("p2"),
            back.stream().map(e -> new FailedEntry(e.id(), 1, T0, "again")).toList(),
            T0);
    assertThat(dead().purgeAllDeadLetters()).isEqualTo(3);
    assertThat(dead().deadLetters(0, 10)).isEmpty();
    assertThat(dead().purgeAllDeadLetters()).isZero();
  }

  // ---------------------------------------------------------------- statistics

  @Test
  void statisticsFollowAScriptedSequence() {
    OutboxStats empty = stats().stats(T0);
    assertThat(empty).isEqualTo(stats(0, 0, 0, 0, Duration.ZERO));

    publish(T0, messages("m", 6)); // 6 pending
    List<ClaimedEntry> claimed = claim("p1", T0.plusSeconds(10), 4); // 4 claimed until T0+40s
    storage.delete(token("p1"), List.of(claimed.get(0).id())); // 5 pending, 3 claimed
    storage.release(
        token("p1"),
        List.of(
            new FailedEntry(
                claimed.get(1).id(), 1, T0.plusSeconds(100), "x"))); // 2 claimed, 1 failing
    boolean dl = storage instanceof DeadLetterStorage;
    if (dl) {
      dead().deadLetter(token("p1"), List.of(new FailedEntry(claimed.get(2).id(), 2, T0, "y")), T0);
    }

    OutboxStats at20 = stats().stats(T0.plusSeconds(20));
    assertThat(at20.pending()).isEqualTo(dl ? 4 : 5);
    assertThat(at20.claimed()).isEqualTo(dl ? 1 : 2);
    assertThat(at20.failing()).isEqualTo(1);
    assertThat(at20.deadLetters()).isEqualTo(dl ? 1 : 0);
    assertThat(at20.oldestPendingAge()).isEqualTo(Duration.ofSeconds(20));

    OutboxStats afterLease = stats().stats(T0.plusSeconds(41));
    assertThat(afterLease.claimed()).as("expired claims do not count").isZero();
  }

  // ---------------------------------------------------------------- through an Outbox

  /** An outbox over the storage under test, on a fake clock, with a 10 s backoff and no jitter. */
  private Outbox<T> outbox(FakeClock clock, RecordingPublisher publisher, Integer maxAttempts) {
    Outbox.Builder<T> b =
        Outbox.builder(storage, publisher)
            .processorId("contract-outbox")
            .clock(clock)
            .batchSize(10)
            .retryBackoff(Duration.ofSeconds(10), Duration.ofSeconds(40))
            .retryJitter(0);
    if (maxAttempts != null) {
      b.maxAttempts(maxAttempts);
    }
    return b.build();
  }

  /** Publishes a healthy message, so the broker is seen to work, then pumps once. */
  private PumpResult pumpWithAHealthyNeighbour(Outbox<T> outbox) {
    inTransaction(txn -> outbox.publish(txn, messages("healthy", 1)));
    return outbox.pumpOutbox();
  }

  @Test
  void anOutboxRetriesAFailedEntryOnlyAfterItsBackoff() {
    FakeClock clock = new FakeClock();
    RecordingPublisher publisher =
        new RecordingPublisher()
            .failWhen(e -> e.message().namespace().equals("b") && e.attempts() < 2);
    Outbox<T> outbox = outbox(clock, publisher, null);
    inTransaction(txn -> outbox.publish(txn, messages("b", 1)));

    assertThat(pumpWithAHealthyNeighbour(outbox).failed()).isEqualTo(1); // back off 10 s
    clock.advance(Duration.ofMillis(9_999));
    assertThat(pumpWithAHealthyNeighbour(outbox).failed()).as("hidden during the backoff").isZero();
    clock.advance(Duration.ofMillis(1));
    assertThat(pumpWithAHealthyNeighbour(outbox).failed()).isEqualTo(1); // back off 20 s
    clock.advance(Duration.ofSeconds(19));
    assertThat(pumpWithAHealthyNeighbour(outbox).failed()).as("the backoff doubled").isZero();
    clock.advance(Duration.ofSeconds(1));
    assertThat(pumpWithAHealthyNeighbour(outbox).published()).isEqualTo(2);

    assertThat(publisher.published())
        .filteredOn(e -> e.message().namespace().equals("b"))
        .singleElement()
        .extracting(ClaimedEntry::attempts)
        .isEqualTo(2);
    assertThat(claim("p", clock.now().plusSeconds(3600), clock.now().plusSeconds(7200), 10))
        .as("deleted once published")
        .isEmpty();
  }

  @Test
  void anOutboxDeadLettersAtMaxAttemptsAndItsAdminRequeuesAndPurges() {
    assumeDeadLetters();
    FakeClock clock = new FakeClock();
    RecordingPublisher publisher =
        new RecordingPublisher().failWhen(e -> e.message().payloadAsString().startsWith("poison"));
    Outbox<T> outbox = outbox(clock, publisher, 2);
    inTransaction(
        txn ->
            outbox.publish(
                txn,
                List.of(
                    Message.builder().namespace("d").payload("poison-1").build(),
                    Message.builder().namespace("d").payload("healthy").build(),
                    Message.builder().namespace("d").payload("poison-2").build())));

    outbox.pumpOutbox();
    clock.advance(Duration.ofSeconds(10));
    pumpWithAHealthyNeighbour(outbox);

    List<DeadLetter> dead = outbox.deadLetters().list(10);
    assertThat(dead)
        .extracting(d -> d.message().payloadAsString())
        .containsExactly("poison-1", "poison-2");
    assertThat(dead)
        .allSatisfy(
            d -> {
              assertThat(d.attempts()).isEqualTo(2);
              assertThat(d.lastError())
                  .contains("RecordingPublisher was told to fail entry " + d.id());
            });
    assertThat(outbox.stats().pending()).as("nothing left to block the outbox").isZero();

    publisher.succeed();
    assertThat(outbox.deadLetters().requeue(dead.get(0).id())).isEqualTo(1);
    assertThat(outbox.pumpOutbox().published()).isEqualTo(1);
    assertThat(publisher.published())
        .filteredOn(e -> e.id() == dead.get(0).id())
        .singleElement()
        .extracting(ClaimedEntry::attempts)
        .as("attempts reset")
        .isEqualTo(0);
    assertThat(outbox.deadLetters().purge(dead.get(1).id())).isEqualTo(1);
    assertThat(outbox.deadLetters().list(10)).isEmpty();
    assertThat(publisher.distinctCount()).isEqualTo(3);
  }

  @Test
  void anOutboxsStatisticsFollowPublishesAndFailures() {
    FakeClock clock = new FakeClock();
    RecordingPublisher publisher =
        new RecordingPublisher().failWhen(e -> e.message().payloadAsString().equals("s-1"));
    Outbox<T> outbox = outbox(clock, publisher, null);
    stats();
    inTransaction(txn -> outbox.publish(txn, messages("s", 4)));
    clock.advance(Duration.ofSeconds(5));
    inTransaction(txn -> outbox.publish(txn, messages("t", 2)));
    assertThat(outbox.stats()).isEqualTo(stats(6, 0, 0, 0, Duration.ofSeconds(5)));

    outbox.pumpOutbox(); // s-1 fails, the other five are published

    assertThat(outbox.stats()).isEqualTo(stats(1, 0, 1, 0, Duration.ofSeconds(5)));
    clock.advance(Duration.ofSeconds(10));
    publisher.succeed();
    outbox.pumpOutbox();
    assertThat(outbox.stats()).isEqualTo(stats(0, 0, 0, 0, Duration.ZERO));
  }

  // ---------------------------------------------------------------- concurrency

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void concurrentClaimersNeverReceiveTheSameEntry() throws Exception {
    int total = concurrentBacklogSize();
    for (int written = 0; written < total; written += 500) {
      publish(T0, messages("c", Math.min(500, total - written)));
    }
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<List<Long>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String processor = "claimer-" + t;
        Callable<List<Long>> claimer =
            () -> {
              List<Long> mine = new ArrayList<>();
              while (true) {
                List<ClaimedEntry> batch =
                    storage.claim(
                        new ClaimRequest(processor, UUID.randomUUID(), T0, T0.plus(LEASE), 50));
                if (batch.isEmpty()) {
                  return mine;
                }
                assertThat(ids(batch)).isSorted();
                mine.addAll(ids(batch));
              }
            };
        results.add(pool.submit(claimer));
      }
      List<Long> all = new ArrayList<>();
      for (Future<List<Long>> f : results) {
        all.addAll(f.get(110, TimeUnit.SECONDS));
      }
      Set<Long> distinct = new HashSet<>(all);
      assertThat(all).as("no entry claimed twice").hasSameSizeAs(distinct);
      assertThat(distinct).hasSize(total);
    } finally {
      pool.shutdownNow();
    }
  }

  /** How many entries the concurrency test claims; override to make it bigger or smaller. */
  protected int concurrentBacklogSize() {
    return 2000;
  }
}
