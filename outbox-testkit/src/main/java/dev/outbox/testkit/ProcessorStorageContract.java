package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.assertj.core.groups.Tuple.tuple;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.DeadLetterStorage;
import dev.outbox.FailedEntry;
import dev.outbox.Message;
import dev.outbox.NewEntry;
import dev.outbox.Ordering;
import dev.outbox.Outbox;
import dev.outbox.OutboxStats;
import dev.outbox.ProcessorStorage;
import dev.outbox.PumpResult;
import dev.outbox.StatisticsStorage;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingSupplier;

/**
 * What every {@link ProcessorStorage} must do. An adapter's test class extends this and implements
 * three methods, all mandatory; it inherits every test:
 *
 * <pre>{@code
 * class PostgresStorageTest extends ProcessorStorageContract<Handle> {
 *   protected ProcessorStorage<Handle> newEmptyStorage() { truncate(); return storage; }
 *   protected void inTransaction(Consumer<Handle> work) { jdbi.useTransaction(work::accept); }
 *   protected void inRolledBackTransaction(Consumer<Handle> work) {
 *     try (Handle h = jdbi.open()) { h.begin(); work.accept(h); h.rollback(); }
 *   }
 * }
 * }</pre>
 *
 * <p>Time is passed explicitly (from {@link FakeClock#DEFAULT_START} onwards), never read from a
 * real clock, so every lease and backoff decision is deterministic. Instants are compared at
 * microsecond precision, the finest most databases keep.
 *
 * <p>Every failure names the rule the storage broke. No test hangs: every storage call the suite
 * makes must return within {@value #CALL_LIMIT_SECONDS} s (it runs on a helper thread that is
 * interrupted after that), and loops over claims are bounded by the number of entries written.
 * Tests of the optional capabilities ({@link DeadLetterStorage}, {@link StatisticsStorage}) are
 * skipped for a storage that does not implement them, and those of ordering (named {@code
 * ordered...}) for a storage whose {@link ProcessorStorage#ordering()} is {@link Ordering#NONE};
 * nothing else is ever skipped.
 *
 * <h2>Ordered storages</h2>
 *
 * Run the contract with the storage in each {@link Ordering} it supports (one subclass each). An
 * ordered storage must pass every test: those about how claimers share a backlog use entries
 * without a key there, and the {@code ordered...} tests check the ordered claim (heads, runs of at
 * most {@link ClaimRequest#maxPerKey()}, failed and dead-lettered heads, {@link
 * DeadLetterStorage#blockedKeys}), concurrent claimers that must never hold two entries of one key
 * at once, and that two writers of one key are delivered in commit order (publish must lock the key
 * until its transaction ends; the test fails for a storage that does not).
 *
 * @param <T> the storage's transaction handle
 */
public abstract class ProcessorStorageContract<T> {

  /** The start of every test's timeline. */
  protected static final Instant T0 = FakeClock.DEFAULT_START;

  static final Duration LEASE = Duration.ofSeconds(30);

  static final int CALL_LIMIT_SECONDS = 30;

  static final Duration CALL_LIMIT = Duration.ofSeconds(CALL_LIMIT_SECONDS);

  /** The size of the large payload every storage must keep: the outbox's default limit, 1 MiB. */
  static final int LARGE_PAYLOAD = 1024 * 1024;

  /** The storage under test, fresh for every test. */
  protected ProcessorStorage<T> storage;

  final Map<String, UUID> tokens = new HashMap<>();

  /**
   * Returns the storage under test with no entries and no dead letters. Called before every test;
   * the same instance may be returned each time if it is emptied. Must not return {@code null}.
   */
  protected abstract ProcessorStorage<T> newEmptyStorage();

  /**
   * Runs {@code work} in a new transaction of the storage's kind and commits it when {@code work}
   * returns. The storage may be called from inside {@code work} on other connections (the suite
   * claims there to check that uncommitted entries stay invisible).
   */
  protected abstract void inTransaction(Consumer<T> work);

  /**
   * Runs {@code work} in a new transaction of the storage's kind and rolls it back when {@code
   * work} returns. Mandatory: {@link ProcessorStorage#publish} must write in the caller's
   * transaction, and this is how the suite proves it. For a storage with no transactions of its
   * own, roll back whatever {@code T} stands for (the testkit's {@link InMemoryStorage} does it
   * with {@link InMemoryStorage.Transaction}).
   */
  protected abstract void inRolledBackTransaction(Consumer<T> work);

  @BeforeEach
  void freshStorage() {
    storage = newEmptyStorage();
    if (storage == null) {
      throw new AssertionError(
          getClass().getName()
              + ".newEmptyStorage() returned null: return the storage under test, emptied of"
              + " every entry and dead letter (the same instance each time is fine)");
    }
    tokens.clear();
  }

  // ---------------------------------------------------------------- helpers for subclasses

  /** Publishes messages in one committed transaction, created at {@code now}. */
  protected void publish(Instant now, List<Message> messages) {
    List<NewEntry> entries = newEntries(now, messages);
    committed(txn -> storage.publish(txn, entries));
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

  /**
   * {@code n} simple messages in namespace {@code ns}, payloads {@code "ns-0"}, {@code "ns-1"}...
   */
  protected static List<Message> messages(String ns, int n) {
    return IntStream.range(0, n)
        .mapToObj(
            i -> Message.builder().namespace(ns).key("k" + (i % 7)).payload(ns + "-" + i).build())
        .toList();
  }

  /**
   * {@link #messages}, but without keys when the storage keeps keys in order: for the tests of how
   * claimers share a backlog, which in an ordered storage holds for entries without a key (keyed
   * ones follow the ordered rules, tested in their own section).
   */
  List<Message> sharedMessages(String ns, int n) {
    if (!storage.ordering().byKey()) {
      return messages(ns, n);
    }
    return IntStream.range(0, n)
        .mapToObj(i -> Message.builder().namespace(ns).payload(ns + "-" + i).build())
        .toList();
  }

  // ---------------------------------------------------------------- private helpers

  /**
   * Runs one storage call on a helper thread and fails, naming the call, when it does not return
   * within {@link #CALL_LIMIT}: a storage must skip what others hold, never wait for it.
   */
  static <V> V bounded(String call, ThrowingSupplier<V> work) {
    return bounded(call, CALL_LIMIT, work);
  }

  static <V> V bounded(String call, Duration limit, ThrowingSupplier<V> work) {
    return assertTimeoutPreemptively(
        limit,
        work,
        () ->
            "a storage call must return promptly, but "
                + call
                + " did not return within "
                + limit.toSeconds()
                + " s (does it wait for rows another transaction holds instead of skipping them?)");
  }

  void committed(Consumer<T> work) {
    AtomicBoolean ran = new AtomicBoolean();
    bounded(
        "inTransaction(...)",
        () -> {
          inTransaction(
              txn -> {
                ran.set(true);
                work.accept(txn);
              });
          return null;
        });
    assertThat(ran)
        .as("%s.inTransaction must run the work it is given", getClass().getSimpleName())
        .isTrue();
  }

  DeadLetterStorage dead() {
    return (DeadLetterStorage) storage;
  }

  StatisticsStorage stats() {
    assumeThat(storage).as("storage keeps statistics").isInstanceOf(StatisticsStorage.class);
    return (StatisticsStorage) storage;
  }

  static OutboxStats stats(long pending, long claimed, long failing, long dead, Duration oldest) {
    return OutboxStats.builder()
        .pending(pending)
        .claimed(claimed)
        .failing(failing)
        .deadLetters(dead)
        .oldestPendingAge(oldest)
        .build();
  }

  static List<Long> ids(List<ClaimedEntry> entries) {
    return entries.stream().map(ClaimedEntry::id).toList();
  }

  static List<String> payloads(List<ClaimedEntry> entries) {
    return entries.stream().map(e -> e.message().payloadAsString()).toList();
  }

  List<ClaimedEntry> claim(String processor, Instant now, int limit) {
    return claim(processor, now, now.plus(LEASE), limit);
  }

  /** Claims with a fresh token, remembered as {@link #token}{@code (processor)}. */
  List<ClaimedEntry> claim(String processor, Instant now, Instant deadline, int limit) {
    UUID token = UUID.randomUUID();
    tokens.put(processor, token);
    ClaimRequest request = new ClaimRequest(processor, token, now, deadline, limit);
    List<ClaimedEntry> claimed = bounded("claim(" + request + ")", () -> storage.claim(request));
    assertThat(claimed).as("claim must return a list, never null").isNotNull();
    assertThat(claimed.size())
        .as("claim must return at most limit (%d) entries", limit)
        .isLessThanOrEqualTo(limit);
    assertThat(ids(claimed)).as("claim must return entries oldest (smallest id) first").isSorted();
    return claimed;
  }

  int delete(UUID token, List<Long> ids) {
    return bounded("delete", () -> storage.delete(token, ids));
  }

  int renew(UUID token, List<Long> ids, Instant deadline) {
    return bounded("renew", () -> storage.renew(token, ids, deadline));
  }

  int release(UUID token, List<FailedEntry> failures) {
    return bounded("release", () -> storage.release(token, failures));
  }

  int deadLetter(UUID token, List<FailedEntry> failures, Instant now) {
    return bounded("deadLetter", () -> dead().deadLetter(token, failures, now));
  }

  static Instant micros(Instant t) {
    return t.truncatedTo(ChronoUnit.MICROS);
  }

  /** Compares bytes without printing a megabyte of them when they differ. */
  static void assertSameBytes(String what, byte[] expected, byte[] actual) {
    if (expected == null) {
      assertThat(actual)
          .as("%s: null and empty keys are different values; null stays null", what)
          .isNull();
      return;
    }
    assertThat(actual).as("%s: kept, not null", what).isNotNull();
    assertThat(actual.length)
        .as(
            "publish must keep every byte exactly (no trimming, padding or truncation): length of %s",
            what)
        .isEqualTo(expected.length);
    int at = Arrays.mismatch(expected, actual);
    assertThat(at)
        .as("publish must keep every byte exactly: first differing byte of %s at index", what)
        .isEqualTo(-1);
  }

  static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  /**
   * {@code size} bytes: 16 zero bytes, pseudo-random bytes (seeded), then 16 zero bytes, so that
   * neither trimming nor truncation nor a text conversion can go unnoticed.
   */
  static byte[] largePayload(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    for (int i = 0; i < Math.min(16, size); i++) {
      b[i] = 0;
      b[size - 1 - i] = 0;
    }
    return b;
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

    assertThat(claimed).as("claim must return every committed entry").hasSize(4);
    assertThat(ids(claimed)).doesNotHaveDuplicates();
    for (int i = 0; i < written.size(); i++) {
      ClaimedEntry e = claimed.get(i);
      assertThat(e.message())
          .as("publish must keep every message exactly and in order: message %d", i)
          .isEqualTo(written.get(i));
      assertThat(e.message().headers()).as("headers of %d", i).isEqualTo(written.get(i).headers());
      assertThat(micros(e.createdAt())).isEqualTo(micros(T0));
      assertThat(e.attempts()).as("a fresh entry has 0 attempts").isZero();
    }
    assertThat(claimed.get(0).message().key()).isEqualTo(allBytes);
    assertThat(claimed.get(1).message().key())
        .as("null and empty keys are different values: an empty key stays empty, not null")
        .isEmpty();
    assertThat(claimed.get(2).message().key())
        .as("null and empty keys are different values: no key stays null, not empty")
        .isNull();
    assertThat(claimed.get(2).message().payload()).isEmpty();
  }

  @Test
  void zeroBytesAndHeaderCaseAndWhitespaceAreKeptExactly() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("X-Trace-ID", "Upper");
    headers.put("x-trace-id", "lower");
    headers.put("Content-Type", "text/plain; Charset=UTF-8");
    headers.put(" spaced name ", "  both ends  ");
    headers.put("tabs", "\tx\t");
    headers.put("one space", " ");
    headers.put("newline", "\n");
    headers.put("empty", "");
    List<Message> written =
        List.of(
            Message.builder()
                .namespace("edge")
                .key(bytes(0, 0, 'k', 0, 0))
                .payload(bytes(0, 0, 0, 'p', 0, 0, 0))
                .headers(headers)
                .build(),
            Message.builder().namespace("edge").key(bytes(0)).payload(new byte[64]).build(),
            Message.builder().namespace("edge").key(bytes('k', 0)).payload(bytes('p', 0)).build(),
            Message.builder().namespace("edge").payload(bytes(0)).build(),
            Message.builder().namespace("edge").key(bytes(0, 'k')).payload(bytes(0, 'p')).build());
    publish(T0, written);

    List<ClaimedEntry> claimed = claim("p1", T0, 10);

    assertThat(claimed).as("claim must return every committed entry").hasSize(written.size());
    for (int i = 0; i < written.size(); i++) {
      Message w = written.get(i);
      Message r = claimed.get(i).message();
      assertSameBytes("the payload of message " + i, w.payload(), r.payload());
      assertSameBytes("the key of message " + i, w.key(), r.key());
      assertThat(r.headers())
          .as(
              "publish must keep header names and values exactly (case, spaces, tabs, newlines and"
                  + " empty values included): headers of message %d",
              i)
          .isEqualTo(w.headers());
      assertThat(r).as("publish must keep message %d exactly", i).isEqualTo(w);
    }
  }

  @Test
  void largePayloadsAreKeptWhole() {
    int[] sizes = {4 * 1024 + 1, 64 * 1024 + 1, LARGE_PAYLOAD};
    List<Message> written = new ArrayList<>();
    for (int size : sizes) {
      written.add(
          Message.builder()
              .namespace("large")
              .key(largePayload(300, size))
              .payload(largePayload(size, size))
              .build());
    }
    publish(T0, written);

    List<ClaimedEntry> claimed = claim("p1", T0, 10);

    assertThat(claimed).as("claim must return every committed entry").hasSize(sizes.length);
    for (int i = 0; i < sizes.length; i++) {
      assertSameBytes(
          "a payload of " + sizes[i] + " bytes",
          written.get(i).payload(),
          claimed.get(i).message().payload());
      assertSameBytes("a key of 300 bytes", written.get(i).key(), claimed.get(i).message().key());
    }
  }

  @Test
  void messagesOfLaterTransactionsGetLargerIds() {
    publish(T0, messages("a", 3));
    publish(T0, messages("b", 3));

    List<ClaimedEntry> claimed = claim("p1", T0, 10);

    assertThat(payloads(claimed))
        .as("entries of a later transaction must get larger ids, in list order")
        .containsExactly("a-0", "a-1", "a-2", "b-0", "b-1", "b-2");
  }

  @Test
  void aLargeBatchIsWrittenCompletelyAndInOrder() {
    publish(T0, messages("bulk", 1500));

    List<ClaimedEntry> claimed = claim("p1", T0, 2000);

    assertThat(payloads(claimed))
        .as("publish must write every entry of a large batch, in list order")
        .containsExactlyElementsOf(IntStream.range(0, 1500).mapToObj(i -> "bulk-" + i).toList());
  }

  @Test
  void rolledBackPublishLeavesNoEntry() {
    List<NewEntry> rolledBack = newEntries(T0, messages("rolled-back", 3));
    AtomicBoolean ran = new AtomicBoolean();
    bounded(
        "inRolledBackTransaction(...)",
        () -> {
          inRolledBackTransaction(
              txn -> {
                ran.set(true);
                storage.publish(txn, rolledBack);
              });
          return null;
        });
    assertThat(ran)
        .as("%s.inRolledBackTransaction must run the work it is given", getClass().getSimpleName())
        .isTrue();
    publish(T0, messages("committed", 1));

    assertThat(payloads(claim("p1", T0, 10)))
        .as(
            "publish must write in the caller's transaction: entries of a rolled-back transaction"
                + " must never be claimable")
        .containsExactly("committed-0");
  }

  @Test
  void entriesAreInvisibleUntilTheirTransactionCommits() {
    List<NewEntry> entries = newEntries(T0, messages("uncommitted", 2));
    List<List<ClaimedEntry>> seenInside = new ArrayList<>();

    committed(
        txn -> {
          storage.publish(txn, entries);
          ClaimRequest inside =
              new ClaimRequest("inside", UUID.randomUUID(), T0, T0.plus(LEASE), 10);
          seenInside.add(
              bounded(
                  "a claim made while another transaction holds uncommitted entries (it must skip"
                      + " them, on a connection of its own)",
                  () -> storage.claim(inside)));
        });

    assertThat(seenInside.get(0))
        .as(
            "publish must write in the caller's transaction: its entries must not be claimable"
                + " before it commits")
        .isEmpty();
    assertThat(payloads(claim("after", T0, 10)))
        .as("entries must be claimable once their transaction committed")
        .containsExactly("uncommitted-0", "uncommitted-1");
  }

  @Test
  void claimIsBoundedAndProcessorsShareTheBacklog() {
    publish(T0, sharedMessages("m", 10));

    List<ClaimedEntry> first = claim("p1", T0, 4);
    List<ClaimedEntry> second = claim("p2", T0, 4);
    List<ClaimedEntry> third = claim("p3", T0, 4);
    List<ClaimedEntry> fourth = claim("p4", T0, 4);

    String rule = "claim must take the oldest available entries, at most limit, not claimed ones";
    assertThat(payloads(first)).as(rule).containsExactly("m-0", "m-1", "m-2", "m-3");
    assertThat(payloads(second)).as(rule).containsExactly("m-4", "m-5", "m-6", "m-7");
    assertThat(payloads(third)).as(rule).containsExactly("m-8", "m-9");
    assertThat(fourth).as(rule).isEmpty();
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

    assertThat(claim("p2", deadline.minusMillis(1), 10))
        .as("a claim must hide its entries until its deadline")
        .isEmpty();
    List<ClaimedEntry> takenOver = claim("p2", deadline.plusMillis(1), 10);

    assertThat(payloads(takenOver))
        .as("entries must be claimable again once their claim's deadline passed")
        .containsExactly("m-0", "m-1", "m-2");
  }

  @Test
  void freshEntriesAreClaimableWhateverTheWritersOrClaimersClockSays() {
    // A writer two minutes fast must not delay its own messages; a claimer whose clock stepped
    // back an hour must not stall.
    publish(T0.plusSeconds(120), messages("m", 1));

    List<ClaimedEntry> claimed = claim("p1", T0.minusSeconds(3600), 10);

    assertThat(payloads(claimed))
        .as("fresh entries must be claimable at once, whatever the writer's or claimer's clock")
        .containsExactly("m-0");
    assertThat(micros(claimed.get(0).createdAt())).isEqualTo(micros(T0.plusSeconds(120)));
  }

  @Test
  void messageIdsAreKeptExactly() {
    List<NewEntry> entries = newEntries(T0, messages("m", 3));
    committed(txn -> storage.publish(txn, entries));

    assertThat(claim("p1", T0, 10))
        .extracting(ClaimedEntry::messageId)
        .as("publish must keep every message id exactly")
        .containsExactlyElementsOf(entries.stream().map(NewEntry::messageId).toList());
  }

  @Test
  void twoClaimsUnderOneProcessorIdCannotChangeEachOthersEntries() {
    // Two outboxes sharing a processor id (a copied config, a restarted pod): the stale one's
    // late changes must not touch what the live one now holds.
    publish(T0, messages("m", 3));
    List<ClaimedEntry> original = claim("shared", T0, 10);
    List<Long> first = ids(original);
    UUID stale = token("shared");
    Instant takeover = T0.plus(LEASE).plusSeconds(1);
    Instant liveDeadline = takeover.plus(LEASE);
    List<Long> second = ids(claim("shared", takeover, 10));
    assertThat(second).as("an expired claim's entries can be taken over").isEqualTo(first);

    assertThat(delete(stale, List.of(first.get(0)))).as("fencing: a stale delete").isZero();
    assertThat(renew(stale, first, takeover.plus(LEASE.multipliedBy(10))))
        .as("fencing: a stale renew")
        .isZero();
    assertThat(release(stale, List.of(new FailedEntry(first.get(1), 7, T0, "stale"))))
        .as("fencing: a stale release")
        .isZero();
    if (storage instanceof DeadLetterStorage d) {
      assertThat(deadLetter(stale, List.of(new FailedEntry(first.get(2), 7, T0, "x")), T0))
          .as("fencing: a stale dead-lettering")
          .isZero();
      assertThat(d.deadLetters(0, 10))
          .as("fencing: a stale dead-lettering must move nothing")
          .isEmpty();
    }
    assertThat(claim("other", liveDeadline.minusSeconds(1), 10))
        .as("fencing: a stale token's calls must leave the live claim holding its entries")
        .isEmpty();
    List<ClaimedEntry> afterLive = claim("after", liveDeadline.plusMillis(1), 10);
    assertThat(afterLive)
        .as(
            "fencing: a stale token's delete/renew/release must not change the entries (they"
                + " must be claimable, unchanged, once the live claim expires)")
        .extracting(ClaimedEntry::id, ClaimedEntry::messageId, ClaimedEntry::attempts)
        .containsExactlyElementsOf(
            original.stream().map(e -> tuple(e.id(), e.messageId(), 0)).toList());
  }

  // ---------------------------------------------------------------- delete and renew (fenced)

  @Test
  void deleteRemovesOnlyTheGivenEntries() {
    publish(T0, messages("m", 4));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);

    int deleted = delete(token("p1"), List.of(claimed.get(0).id(), claimed.get(2).id()));

    assertThat(deleted).as("delete returns how many entries it deleted").isEqualTo(2);
    renew(token("p1"), ids(claimed), T0); // release the rest
    assertThat(payloads(claim("p2", T0, 10)))
        .as("delete must remove exactly the given entries")
        .containsExactly("m-1", "m-3");
  }

  @Test
  void deleteIsFencedByTheClaimToken() {
    publish(T0, messages("m", 2));
    List<Long> ids = ids(claim("p1", T0, 10));
    List<Long> takenOver = ids(claim("p2", T0.plus(LEASE).plusSeconds(1), 10));
    assertThat(takenOver).isEqualTo(ids);

    assertThat(delete(token("p1"), ids)).as("fencing: the old owner deletes nothing").isZero();
    assertThat(delete(token("p2"), ids))
        .as("fencing: the old owner's delete must leave the entries for the new owner")
        .isEqualTo(2);
    assertThat(claim("p3", T0.plus(LEASE.multipliedBy(3)), 10)).isEmpty();
  }

  @Test
  void deleteChangesOnlyEntriesOfItsOwnToken() {
    publish(T0, messages("m", 2));
    long mine = claim("p1", T0, 1).get(0).id();
    long theirs = claim("p2", T0, 1).get(0).id();

    assertThat(delete(token("p1"), List.of(mine, theirs)))
        .as("fencing: delete counts only entries of its own token")
        .isEqualTo(1);

    assertThat(claim("p3", T0.plus(LEASE).plusMillis(1), 10))
        .as("fencing: delete must not remove an entry another token holds")
        .extracting(ClaimedEntry::id)
        .containsExactly(theirs);
  }

  @Test
  void deleteOfUnknownOrNoIdsDeletesNothing() {
    assertThat(delete(UUID.randomUUID(), List.of())).isZero();
    assertThat(delete(UUID.randomUUID(), List.of(424242L, 424243L))).isZero();
  }

  @Test
  void renewExtendsTheClaimsOwnEntries() {
    publish(T0, messages("m", 2));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);
    Instant later = T0.plus(LEASE.multipliedBy(3));

    assertThat(renew(token("p1"), ids(claimed), later))
        .as("renew returns how many entries it renewed")
        .isEqualTo(2);

    assertThat(claim("p2", T0.plus(LEASE).plusSeconds(1), 10))
        .as("renew must move the claim's deadline")
        .isEmpty();
    assertThat(claim("p2", later, 10)).as("entries are claimable at the new deadline").hasSize(2);
  }

  @Test
  void renewWithAnotherTokenChangesNothing() {
    publish(T0, messages("m", 2));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);

    assertThat(renew(UUID.randomUUID(), ids(claimed), T0.plus(LEASE.multipliedBy(10))))
        .as("fencing: another token renews nothing")
        .isZero();

    assertThat(claim("p2", T0.plus(LEASE).plusMillis(1), 10))
        .as("fencing: a renew under another token must leave the entries' lease as it was")
        .hasSize(2);
  }

  @Test
  void renewChangesOnlyEntriesOfItsOwnToken() {
    publish(T0, messages("m", 2));
    long mine = claim("p1", T0, 1).get(0).id();
    long theirs = claim("p2", T0, 1).get(0).id();
    Instant later = T0.plus(LEASE.multipliedBy(10));

    assertThat(renew(token("p1"), List.of(mine, theirs), later))
        .as("fencing: renew counts only entries of its own token")
        .isEqualTo(1);

    assertThat(claim("p3", T0.plus(LEASE).plusMillis(1), 10))
        .as(
            "fencing: renew must not extend an entry another token holds (it must be claimable"
                + " at that token's own deadline), whatever count it returns")
        .extracting(ClaimedEntry::id)
        .containsExactly(theirs);
  }

  @Test
  void renewingToNowReleasesTheEntries() {
    publish(T0, messages("m", 2));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);

    renew(token("p1"), ids(claimed), T0);

    assertThat(claim("p2", T0, 10))
        .as("renewing to now must make the entries claimable at now")
        .hasSize(2);
  }

  // ---------------------------------------------------------------- failures and backoff

  @Test
  void aFailedEntryIsHiddenUntilItsRetryTimeAndKeepsItsAttempts() {
    publish(T0, messages("m", 2));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);
    Instant retryAt = T0.plusSeconds(10);

    int failed =
        release(token("p1"), List.of(new FailedEntry(claimed.get(0).id(), 1, retryAt, "boom")));
    delete(token("p1"), List.of(claimed.get(1).id()));

    assertThat(failed).as("release returns how many entries it released").isEqualTo(1);
    assertThat(claim("p2", retryAt.minusMillis(1), 10))
        .as("release must hide the entry until its retryAt")
        .isEmpty();
    List<ClaimedEntry> retried = claim("p2", retryAt, 10);
    assertThat(retried).as("release must make the entry claimable at its retryAt").hasSize(1);
    assertThat(retried.get(0).id()).isEqualTo(claimed.get(0).id());
    assertThat(retried.get(0).attempts())
        .as("release must store the entry's attempts")
        .isEqualTo(1);
    assertThat(retried.get(0).message()).isEqualTo(claimed.get(0).message());
  }

  @Test
  void releaseIsFencedByTheClaimToken() {
    publish(T0, messages("m", 1));
    long id = claim("p1", T0, 10).get(0).id();
    Instant takeover = T0.plus(LEASE).plusSeconds(1);
    claim("p2", takeover, 10);

    int failed = release(token("p1"), List.of(new FailedEntry(id, 1, T0, "late failure")));

    assertThat(failed).as("fencing: the old owner releases nothing").isZero();
    assertThat(claim("p3", takeover, 10))
        .as("fencing: the old owner's release must leave p2's claim holding")
        .isEmpty();
  }

  @Test
  void releaseChangesOnlyEntriesOfItsOwnToken() {
    publish(T0, messages("m", 2));
    long mine = claim("p1", T0, 1).get(0).id();
    long theirs = claim("p2", T0, 1).get(0).id();

    assertThat(
            release(
                token("p1"),
                List.of(new FailedEntry(mine, 5, T0, "a"), new FailedEntry(theirs, 5, T0, "b"))))
        .as("fencing: release counts only entries of its own token")
        .isEqualTo(1);

    assertThat(claim("p3", T0.plusMillis(1), T0.plus(LEASE.multipliedBy(10)), 10))
        .as("fencing: release must not free an entry another token holds")
        .extracting(ClaimedEntry::id)
        .containsExactly(mine);
    assertThat(claim("p4", T0.plus(LEASE).plusMillis(1), 10))
        .as("fencing: release must not change the attempts of an entry another token holds")
        .singleElement()
        .extracting(ClaimedEntry::id, ClaimedEntry::attempts)
        .containsExactly(theirs, 0);
  }

  @Test
  void attemptsAccumulateOverSeveralFailures() {
    publish(T0, messages("m", 1));
    Instant t = T0;
    for (int attempt = 1; attempt <= 3; attempt++) {
      List<ClaimedEntry> claimed = claim("p1", t, 10);
      assertThat(claimed).as("a released entry is claimable at its retryAt").hasSize(1);
      assertThat(claimed.get(0).attempts())
          .as("release must store the attempts it is given")
          .isEqualTo(attempt - 1);
      t = t.plusSeconds(1);
      release(
          token("p1"),
          List.of(new FailedEntry(claimed.get(0).id(), attempt, t, "failure " + attempt)));
    }
    assertThat(claim("p1", t, 10))
        .as("release must store the attempts it is given")
        .singleElement()
        .extracting(ClaimedEntry::attempts)
        .isEqualTo(3);
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
        deadLetter(token("p1"), List.of(new FailedEntry(victim.id(), 5, at, "too big")), at);

    assertThat(moved).isEqualTo(1);
    List<DeadLetter> dead = dead().deadLetters(0, 10);
    assertThat(dead).hasSize(1);
    DeadLetter d = dead.get(0);
    assertThat(d.id()).isEqualTo(victim.id());
    assertThat(d.messageId()).isEqualTo(victim.messageId());
    assertThat(d.message())
        .as("a dead letter keeps its message exactly")
        .isEqualTo(victim.message());
    assertThat(d.attempts()).isEqualTo(5);
    assertThat(d.lastError()).isEqualTo("too big");
    assertThat(micros(d.deadLetteredAt())).isEqualTo(micros(at));
    assertThat(micros(d.createdAt())).isEqualTo(micros(T0));
    renew(token("p1"), List.of(claimed.get(1).id()), T0);
    assertThat(payloads(claim("p2", T0.plus(LEASE.multipliedBy(10)), 10)))
        .as("dead-lettering must take the entry out of the outbox, and only that entry")
        .containsExactly("m-1");
  }

  @Test
  void deadLetteringIsFencedByTheClaimToken() {
    assumeDeadLetters();
    publish(T0, messages("m", 1));
    long id = claim("p1", T0, 10).get(0).id();
    claim("p2", T0.plus(LEASE).plusSeconds(1), 10);

    assertThat(deadLetter(token("p1"), List.of(new FailedEntry(id, 1, T0, "x")), T0))
        .as("fencing: the old owner dead-letters nothing")
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
    deadLetter(token("p1"), failures, T0);

    List<DeadLetter> page1 = dead().deadLetters(0, 2);
    assertThat(page1).as("deadLetters returns at most limit, smallest id first").hasSize(2);
    List<DeadLetter> page2 = dead().deadLetters(page1.get(1).id(), 2);
    assertThat(page2).as("deadLetters returns at most limit, smallest id first").hasSize(2);
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
    deadLetter(
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
    assertThat(back).as("a requeued entry is available at once, whatever the clock").hasSize(1);
    assertThat(back.get(0).id()).isEqualTo(claimed.get(1).id());
    assertThat(back.get(0).messageId()).isEqualTo(claimed.get(1).messageId());
    assertThat(back.get(0).attempts()).as("requeue must reset attempts to 0").isZero();
    assertThat(back.get(0).message()).isEqualTo(claimed.get(1).message());
  }

  @Test
  void requeueAllAndPurgeAllEmptyTheDeadLetters() {
    assumeDeadLetters();
    publish(T0, messages("m", 4));
    List<ClaimedEntry> claimed = claim("p1", T0, 10);
    List<FailedEntry> failures = new ArrayList<>();
    for (ClaimedEntry e : claimed) {
      failures.add(new FailedEntry(e.id(), 4, T0, "x"));
    }
    deadLetter(token("p1"), failures.subList(0, 2), T0);
    deadLetter(token("p1"), failures.subList(2, 4), T0);

    assertThat(dead().purgeDeadLetters(List.of(claimed.get(0).id()))).isEqualTo(1);
    assertThat(dead().requeueAllDeadLetters(T0)).isEqualTo(3);
    assertThat(dead().deadLetters(0, 10)).isEmpty();
    List<ClaimedEntry> back = claim("p2", T0, 10);
    assertThat(payloads(back))
        .as("requeueAll must bring every dead letter back, available at once")
        .containsExactly("m-1", "m-2", "m-3");
    assertThat(back)
        .as("requeueAll must reset attempts to 0 and keep message ids")
        .extracting(ClaimedEntry::messageId, ClaimedEntry::attempts)
        .containsExactlyElementsOf(
            claimed.subList(1, 4).stream().map(e -> tuple(e.messageId(), 0)).toList());

    deadLetter(
        token("p2"), back.stream().map(e -> new FailedEntry(e.id(), 1, T0, "again")).toList(), T0);
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
    delete(token("p1"), List.of(claimed.get(0).id())); // 5 pending, 3 claimed
    release(
        token("p1"),
        List.of(
            new FailedEntry(
                claimed.get(1).id(), 1, T0.plusSeconds(100), "x"))); // 2 claimed, 1 failing
    boolean dl = storage instanceof DeadLetterStorage;
    if (dl) {
      deadLetter(token("p1"), List.of(new FailedEntry(claimed.get(2).id(), 2, T0, "y")), T0);
    }

    OutboxStats at20 = stats().stats(T0.plusSeconds(20));
    assertThat(at20.pending()).as("stats: pending").isEqualTo(dl ? 4 : 5);
    assertThat(at20.claimed()).as("stats: claimed").isEqualTo(dl ? 1 : 2);
    assertThat(at20.failing()).as("stats: failing").isEqualTo(1);
    assertThat(at20.deadLetters()).as("stats: dead letters").isEqualTo(dl ? 1 : 0);
    assertThat(at20.oldestPendingAge())
        .as("stats: oldest pending age")
        .isEqualTo(Duration.ofSeconds(20));

    OutboxStats afterLease = stats().stats(T0.plusSeconds(41));
    assertThat(afterLease.claimed()).as("stats: expired claims do not count").isZero();
  }

  // ---------------------------------------------------------------- through an Outbox

  /** An outbox over the storage under test, on a fake clock, with a 10 s backoff and no jitter. */
  Outbox<T> outbox(FakeClock clock, RecordingPublisher publisher, Integer maxAttempts) {
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

  static PumpResult pump(Outbox<?> outbox) {
    return bounded("pumpOutbox()", outbox::pumpOutbox);
  }

  /** Publishes a healthy message, so the broker is seen to work, then pumps once. */
  private PumpResult pumpWithAHealthyNeighbour(Outbox<T> outbox) {
    committed(txn -> outbox.publish(txn, messages("healthy", 1)));
    return pump(outbox);
  }

  @Test
  void anOutboxRetriesAFailedEntryOnlyAfterItsBackoff() {
    FakeClock clock = new FakeClock();
    RecordingPublisher publisher =
        new RecordingPublisher()
            .failWhen(e -> e.message().namespace().equals("b") && e.attempts() < 2);
    Outbox<T> outbox = outbox(clock, publisher, null);
    committed(txn -> outbox.publish(txn, messages("b", 1)));

    assertThat(pumpWithAHealthyNeighbour(outbox).failed()).isEqualTo(1); // back off 10 s
    clock.advance(Duration.ofMillis(9_999));
    assertThat(pumpWithAHealthyNeighbour(outbox).failed())
        .as("a failed entry is hidden during its backoff")
        .isZero();
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
        .as("release must store the attempts it is given")
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
    committed(
        txn ->
            outbox.publish(
                txn,
                List.of(
                    Message.builder().namespace("d").payload("poison-1").build(),
                    Message.builder().namespace("d").payload("healthy").build(),
                    Message.builder().namespace("d").payload("poison-2").build())));

    pump(outbox);
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
    assertThat(pump(outbox).published()).isEqualTo(1);
    assertThat(publisher.published())
        .filteredOn(e -> e.id() == dead.get(0).id())
        .singleElement()
        .extracting(ClaimedEntry::attempts)
        .as("requeue must reset attempts to 0")
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
    committed(txn -> outbox.publish(txn, messages("s", 4)));
    clock.advance(Duration.ofSeconds(5));
    committed(txn -> outbox.publish(txn, messages("t", 2)));
    assertThat(outbox.stats()).isEqualTo(stats(6, 0, 0, 0, Duration.ofSeconds(5)));

    pump(outbox); // s-1 fails, the other five are published

    assertThat(outbox.stats()).isEqualTo(stats(1, 0, 1, 0, Duration.ofSeconds(5)));
    clock.advance(Duration.ofSeconds(10));
    publisher.succeed();
    pump(outbox);
    assertThat(outbox.stats()).isEqualTo(stats(0, 0, 0, 0, Duration.ZERO));
  }

  // ---------------------------------------------------------------- concurrency

  @Test
  void concurrentClaimersNeverReceiveTheSameEntry() throws Exception {
    int total = concurrentBacklogSize();
    for (int written = 0; written < total; written += 500) {
      publish(T0, sharedMessages("c", Math.min(500, total - written)));
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
              while (!Thread.currentThread().isInterrupted()) {
                List<ClaimedEntry> batch =
                    storage.claim(
                        new ClaimRequest(processor, UUID.randomUUID(), T0, T0.plus(LEASE), 50));
                if (batch.isEmpty()) {
                  return mine;
                }
                assertThat(ids(batch))
                    .as("claim must return entries oldest (smallest id) first")
                    .isSorted();
                mine.addAll(ids(batch));
                if (mine.size() > total) {
                  throw new AssertionError(
                      "a claim must hide its entries until its deadline, but "
                          + processor
                          + " alone received "
                          + mine.size()
                          + " entries out of "
                          + total
                          + " without the lease expiring");
                }
              }
              return mine;
            };
        results.add(pool.submit(claimer));
      }
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(CALL_LIMIT_SECONDS * 2L);
      List<Long> all = new ArrayList<>();
      for (Future<List<Long>> f : results) {
        try {
          all.addAll(f.get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
          throw new AssertionError(
              "concurrent claimers must drain "
                  + total
                  + " entries within "
                  + CALL_LIMIT_SECONDS * 2
                  + " s; claim blocked or never returned empty (do claimers wait for each"
                  + " other's rows instead of skipping them?)");
        } catch (ExecutionException e) {
          if (e.getCause() instanceof AssertionError a) {
            throw a;
          }
          throw e;
        }
      }
      Set<Long> distinct = new HashSet<>(all);
      assertThat(all)
          .as("concurrent claims must never hand out the same entry twice")
          .hasSameSizeAs(distinct);
      assertThat(distinct).as("concurrent claimers must drain every entry").hasSize(total);
    } finally {
      pool.shutdownNow();
    }
  }

  /** How many entries the concurrency test claims; override to make it bigger or smaller. */
  protected int concurrentBacklogSize() {
    return 2000;
  }
}
