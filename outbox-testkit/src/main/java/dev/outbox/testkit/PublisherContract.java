package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Publisher} must do. An adapter's test class extends this and implements {@link
 * #publisher()} and {@link #received}; it inherits every test.
 *
 * <pre>{@code
 * class KafkaPublisherContractTest extends PublisherContract {
 *   protected Publisher publisher() { return KafkaPublisher.builder(producer).build(); }
 *   protected List<ReceivedMessage> received(String ns, int atLeast, Duration timeout) {
 *     return consumer.poll(ns, atLeast, timeout); // decode each record into a ReceivedMessage
 *   }
 * }
 * }</pre>
 *
 * <h2>Hooks, and when to override them</h2>
 *
 * The defaults are strict, so that nothing is skipped for a broker that can produce a case:
 *
 * <ul>
 *   <li>{@link #readYourWritesTimeout()}, 2 s: every message {@code publish} returned for must be
 *       readable that soon. Override only for a broker whose consumers see messages late for a
 *       reason the publisher cannot wait for.
 *   <li>{@link #oversizedEntry(long)}: by default an entry one byte over the largest payload {@link
 *       Publisher#checkDeliverable} accepts (found by bisection up to 16 MiB). A publisher whose
 *       {@code checkDeliverable} accepts 16 MiB must override it: return an entry over the broker's
 *       limit, or {@code Optional.empty()} only when the broker has none.
 *   <li>{@link #unroutableEntry(long)}: by default an entry in namespace {@code namespace() +
 *       "-unrouted"}. A publisher that routes every namespace must override it to return {@code
 *       Optional.empty()}; one that routes by another rule returns an entry it routes nowhere.
 *   <li>{@link #unroutableFailureIsPermanent()}, {@link #carriesKeys()}, {@link
 *       #carriesBinaryPayloads()}, {@link #namespace()}: declarations about the broker; override
 *       them only when the default is not true of it.
 * </ul>
 *
 * <h2>Order</h2>
 *
 * A publisher whose {@link Publisher#keepsOrder()} is true extends {@link OrderedPublisherContract}
 * instead, which adds the ordered tests: within one call, a key's entries (same namespace and key)
 * must arrive in list order, several keys interleaved; and once one of them fails (retryably, or
 * for good), every later entry of that key in the call must be reported failed, retryable, and must
 * not arrive, while other keys' entries are delivered. For these {@link #received} must return
 * messages in the order a consumer receives them, at least per key.
 *
 * <p>Entry ids are unique per JVM, starting at 1,000,000 and increasing; message ids are random
 * UUIDs, so a subclass can tell this test's messages from leftovers. Every failure names the rule
 * the publisher broke, and no test waits much longer than {@link #readYourWritesTimeout()} for
 * messages that do not come.
 */
public abstract class PublisherContract {

  static final AtomicLong NEXT_ID = new AtomicLong(1_000_000);

  /** The largest payload the size probe tries: beyond it, a broker is taken to have no limit. */
  static final int PROBE_CAP = 16 * 1024 * 1024;

  /** The largest payload the large-payload test sends, to keep broker tests quick. */
  static final int LARGE_CAP = 1024 * 1024;

  static final String READ_RULE =
      "a publisher must return only once the broker holds every message it reports as sent, and"
          + " must not lose or drop any";

  Publisher publisher;
  Integer largestPayload;

  /**
   * Returns the publisher under test, ready to publish to {@link #namespace()}. Called once per
   * test (the suite keeps what it returns for the rest of the test); it may create a fresh queue or
   * topic each time. Must not return {@code null}.
   */
  protected abstract Publisher publisher();

  /**
   * The messages the broker holds in the namespace, as a consumer reads them: waits at most {@code
   * timeout} until at least {@code atLeast} arrived, then returns every one that arrived, which may
   * be fewer (when the timeout passed) or more (duplicates, or leftovers the suite ignores by
   * message id). It may also throw an {@link AssertionError} when fewer arrived.
   */
  protected abstract List<ReceivedMessage> received(
      String namespace, int atLeast, Duration timeout);

  /** A namespace this publisher routes. Default {@code "contract"}. */
  protected String namespace() {
    return "contract";
  }

  /**
   * Whether the broker carries message keys back to consumers, keeping a {@code null} key apart
   * from an empty one. Default {@code true}; return {@code false} only for a broker that has no
   * place for a key at all.
   */
  protected boolean carriesKeys() {
    return true;
  }

  /**
   * Whether the broker carries arbitrary (non-UTF-8) payload bytes, zero bytes included. Default
   * {@code true}; return {@code false} only for a text-only broker whose publisher refuses binary
   * payloads in {@link Publisher#checkDeliverable}.
   */
  protected boolean carriesBinaryPayloads() {
    return true;
  }

  /**
   * How long after {@code publish} returns every message of the batch must be readable through
   * {@link #received}. Default 2 s: a publisher returns only once the broker holds the messages, so
   * this is the broker's read latency only. Override with a longer time only for a broker whose
   * consumers see messages late for a reason the publisher cannot wait for, and say why.
   */
  protected Duration readYourWritesTimeout() {
    return Duration.ofSeconds(2);
  }

  /**
   * An entry with this id over the broker's size limit: the publisher must refuse its message in
   * {@link Publisher#checkDeliverable} and fail it permanently in {@code publish}, alone.
   *
   * <p>The default finds the largest payload {@code checkDeliverable} accepts (by bisection, up to
   * 16 MiB) and returns an entry one byte larger; when {@code checkDeliverable} accepts 16 MiB it
   * fails the test, asking for an override. Return {@code Optional.empty()} only when the broker
   * has no size limit: the tests of size-limit failures are then skipped.
   */
  protected Optional<ClaimedEntry> oversizedEntry(long id) {
    int largest = largestPayload();
    if (largest >= PROBE_CAP) {
      throw new AssertionError(
          "checkDeliverable accepts a "
              + PROBE_CAP
              + "-byte payload, so the suite cannot make an entry over the broker's size limit:"
              + " make checkDeliverable refuse messages over the limit, or override"
              + " oversizedEntry(long) to return one (Optional.empty() only if the broker has no"
              + " size limit)");
    }
    return Optional.of(entry(id, sized(largest + 1)));
  }

  /**
   * An entry with this id that the publisher routes nowhere: {@code publish} must fail it alone,
   * retryable or permanent as {@link #unroutableFailureIsPermanent()} says. The default is a
   * message in namespace {@code namespace() + "-unrouted"}. Return {@code Optional.empty()} only
   * when the publisher routes every namespace: the tests of unroutable entries are then skipped.
   */
  protected Optional<ClaimedEntry> unroutableEntry(long id) {
    return Optional.of(
        entry(
            id,
            Message.builder()
                .namespace(namespace() + "-unrouted")
                .payload("nowhere to go")
                .build()));
  }

  /**
   * Whether the publisher fails an {@link #unroutableEntry} permanently (to the dead letters at
   * once) rather than retryably. Default {@code true}: no retry routes a message the configuration
   * routes nowhere.
   */
  protected boolean unroutableFailureIsPermanent() {
    return true;
  }

  /** A new entry with a fresh id and a fresh message id. */
  protected ClaimedEntry entry(Message message) {
    return entry(NEXT_ID.incrementAndGet(), message);
  }

  /** A new entry with this id and a fresh message id. */
  protected static ClaimedEntry entry(long id, Message message) {
    return ClaimedEntry.builder()
        .id(id)
        .messageId(UUID.randomUUID())
        .message(message)
        .createdAt(FakeClock.DEFAULT_START)
        .build();
  }

  // ---------------------------------------------------------------- helpers

  Publisher pub() {
    if (publisher == null) {
      publisher = publisher();
      if (publisher == null) {
        throw new AssertionError(
            getClass().getName()
                + ".publisher() returned null: return the publisher under test, routing"
                + " namespace() (\""
                + namespace()
                + "\")");
      }
    }
    return publisher;
  }

  Message text(int i) {
    return Message.builder()
        .namespace(namespace())
        .key("key-" + (i % 3))
        .payload("{\"n\":" + i + ",\"text\":\"Grüße ✓\"}")
        .header("content-type", "application/json")
        .header("X-Request-ID", "  Padded\tValue  ")
        .header("x-request-id", "lower " + i)
        .build();
  }

  /** A message of the size probe's shape with a payload of {@code size} bytes. */
  Message sized(int size) {
    byte[] payload;
    if (carriesBinaryPayloads()) {
      payload = ProcessorStorageContract.largePayload(size, 42);
    } else {
      payload = new byte[size];
      for (int i = 0; i < size; i++) {
        payload[i] = (byte) ('a' + i % 26);
      }
    }
    return Message.builder()
        .namespace(namespace())
        .key("large")
        .payload(payload)
        .header("content-type", "application/octet-stream")
        .build();
  }

  boolean deliverable(Message m) {
    try {
      pub().checkDeliverable(m);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** The largest payload of {@link #sized} shape checkDeliverable accepts, up to PROBE_CAP. */
  int largestPayload() {
    if (largestPayload == null) {
      assertThat(deliverable(sized(0)))
          .as("checkDeliverable must accept a small ordinary message")
          .isTrue();
      int lo = 0;
      int hi = 1024;
      while (hi < PROBE_CAP && deliverable(sized(hi))) {
        lo = hi;
        hi *= 2;
      }
      if (hi >= PROBE_CAP && deliverable(sized(PROBE_CAP))) {
        lo = PROBE_CAP;
      } else {
        while (hi - lo > 1) {
          int mid = lo + (hi - lo) / 2;
          if (deliverable(sized(mid))) {
            lo = mid;
          } else {
            hi = mid;
          }
        }
      }
      largestPayload = lo;
    }
    return largestPayload;
  }

  static List<UUID> messageIds(List<ClaimedEntry> entries) {
    return entries.stream().map(ClaimedEntry::messageId).toList();
  }

  /**
   * Reads what arrived right after {@code publish} returned and fails, naming the rule, unless
   * every entry of {@code expected} is there.
   */
  Map<UUID, ReceivedMessage> arrived(List<ClaimedEntry> expected) {
    Duration timeout = readYourWritesTimeout();
    List<ReceivedMessage> got;
    try {
      got =
          assertTimeoutPreemptively(
              timeout.plusSeconds(10),
              () -> received(namespace(), expected.size(), timeout),
              () -> "received(...) must return within its timeout (" + timeout + ") or soon after");
    } catch (AssertionError e) {
      throw new AssertionError(
          READ_RULE
              + ", but reading "
              + expected.size()
              + " messages within "
              + timeout
              + " after publish() returned failed: "
              + e.getMessage(),
          e);
    }
    Map<UUID, ReceivedMessage> byId = new HashMap<>();
    for (ReceivedMessage r : got) {
      byId.putIfAbsent(r.messageId(), r);
    }
    List<Long> missing =
        expected.stream()
            .filter(e -> !byId.containsKey(e.messageId()))
            .map(ClaimedEntry::id)
            .toList();
    if (!missing.isEmpty()) {
      throw new AssertionError(
          READ_RULE
              + ", but "
              + missing.size()
              + " of "
              + expected.size()
              + " messages were not readable within "
              + timeout
              + " after publish() returned (lost, or publish returned before the broker held"
              + " them); entry ids "
              + missing);
    }
    return byId;
  }

  void publishOk(List<ClaimedEntry> batch) {
    Throwable failure = catchThrowable(() -> pub().publish(batch));
    if (failure != null) {
      throw new AssertionError(
          "publish must accept a batch of deliverable messages, but it threw " + failure, failure);
    }
  }

  static void assertSameBytes(String rule, byte[] expected, byte[] actual) {
    if (expected == null) {
      assertThat(actual).as(rule).isNull();
      return;
    }
    assertThat(actual).as(rule).isNotNull();
    assertThat(actual.length).as("%s (length)", rule).isEqualTo(expected.length);
    assertThat(Arrays.mismatch(expected, actual))
        .as("%s (index of the first differing byte)", rule)
        .isEqualTo(-1);
  }

  void assertArrivedExactly(ClaimedEntry e, ReceivedMessage r) {
    Message m = e.message();
    assertSameBytes(
        "a publisher must deliver the payload byte-exact (entry " + e.id() + ")",
        m.payload(),
        r.payload());
    if (carriesKeys()) {
      assertSameBytes(
          "a publisher must deliver the key exactly; null and empty keys are different values"
              + " (entry "
              + e.id()
              + ")",
          m.key(),
          r.key());
    }
    assertThat(r.headers())
        .as(
            "a publisher must deliver header names and values exactly, case and whitespace"
                + " included (entry %d)",
            e.id())
        .containsAllEntriesOf(m.headers());
  }

  /** How a bad entry must fail: permanently or not, and the rule that says so. */
  record Expected(boolean permanent, String rule) {}

  static final String SIZE_RULE =
      "a publisher must classify its failures as it declares: a size-limit failure is permanent";

  Expected unroutableRule() {
    boolean permanent = unroutableFailureIsPermanent();
    return new Expected(
        permanent,
        "a publisher must classify its failures as it declares: an entry routed nowhere fails "
            + (permanent ? "permanently" : "retryably")
            + " (unroutableFailureIsPermanent() is "
            + permanent
            + ")");
  }

  /**
   * Publishes a batch with bad entries mixed in, and checks that exactly the bad ones failed, each
   * classified as expected, and that every other one arrived.
   */
  void publishMixed(List<ClaimedEntry> batch, Map<Long, Expected> bad, String kind) {
    Throwable thrown = catchThrowable(() -> pub().publish(batch));
    assertThat(thrown)
        .as("publish must throw a PublishException naming %s", kind)
        .isInstanceOf(PublishException.class);
    PublishException failure = (PublishException) thrown;
    assertThat(failure.failures().keySet())
        .as("a PublishException must name exactly the entries that failed (%s)", kind)
        .containsExactlyInAnyOrderElementsOf(bad.keySet());
    assertThat(failure.errorCount()).isEqualTo(bad.size());
    for (Map.Entry<Long, Expected> b : bad.entrySet()) {
      PublishException.Failure f = failure.failureOf(b.getKey());
      assertThat(f.permanent())
          .as("%s; entry %d: %s", b.getValue().rule(), b.getKey(), f)
          .isEqualTo(b.getValue().permanent());
    }
    List<ClaimedEntry> good = batch.stream().filter(e -> !bad.containsKey(e.id())).toList();
    Map<UUID, ReceivedMessage> got = arrived(good);
    List<UUID> badMessages =
        batch.stream().filter(e -> bad.containsKey(e.id())).map(ClaimedEntry::messageId).toList();
    assertThat(got.keySet())
        .as("a publisher must not deliver an entry it reports as failed")
        .doesNotContainAnyElementsOf(badMessages);
  }

  // ---------------------------------------------------------------- tests

  @Test
  void everyEntryOfABatchArrivesWithPayloadHeadersAndMessageId() {
    List<ClaimedEntry> batch = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      batch.add(entry(text(i)));
    }

    publishOk(batch);

    Map<UUID, ReceivedMessage> got = arrived(batch);
    for (ClaimedEntry e : batch) {
      assertArrivedExactly(e, got.get(e.messageId()));
    }
  }

  @Test
  void publishReturnsOnlyOnceTheBrokerHoldsEveryMessage() {
    List<ClaimedEntry> batch = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      batch.add(entry(text(i)));
    }

    publishOk(batch);

    assertThat(arrived(batch)).hasSizeGreaterThanOrEqualTo(batch.size());
  }

  @Test
  void aBatchLargerThanTheBrokersOwnBatchLimitArrivesCompletely() {
    List<ClaimedEntry> batch = new ArrayList<>();
    for (int i = 0; i < 95; i++) {
      batch.add(entry(text(i)));
    }

    publishOk(batch);

    assertThat(arrived(batch).keySet()).containsAll(messageIds(batch));
  }

  @Test
  void emptyPayloadsAndNullOrEmptyKeysArriveExactly() {
    List<ClaimedEntry> batch = new ArrayList<>();
    batch.add(entry(Message.builder().namespace(namespace()).payload(new byte[0]).build()));
    batch.add(entry(Message.builder().namespace(namespace()).key(new byte[0]).payload("").build()));
    batch.add(entry(Message.builder().namespace(namespace()).payload("no key").build()));
    batch.add(
        entry(
            Message.builder()
                .namespace(namespace())
                .key(new byte[0])
                .payload("empty key")
                .build()));
    batch.add(
        entry(Message.builder().namespace(namespace()).key(" k ").payload(" spaced ").build()));

    publishOk(batch);

    Map<UUID, ReceivedMessage> got = arrived(batch);
    for (ClaimedEntry e : batch) {
      assertArrivedExactly(e, got.get(e.messageId()));
    }
  }

  @Test
  void binaryPayloadsAndZeroBytesArriveByteExact() {
    assumeThat(carriesBinaryPayloads()).as("broker carries binary payloads").isTrue();
    byte[] bytes = new byte[256];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (255 - i);
    }
    List<ClaimedEntry> batch = new ArrayList<>();
    batch.add(entry(Message.builder().namespace(namespace()).payload(bytes).build()));
    batch.add(
        entry(
            Message.builder()
                .namespace(namespace())
                .key(new byte[] {0, 'k', 0})
                .payload(new byte[] {0, 0, 'p', 0, 0})
                .build()));
    batch.add(
        entry(
            Message.builder()
                .namespace(namespace())
                .key(new byte[] {0})
                .payload(new byte[32])
                .build()));

    publishOk(batch);

    Map<UUID, ReceivedMessage> got = arrived(batch);
    for (ClaimedEntry e : batch) {
      assertArrivedExactly(e, got.get(e.messageId()));
    }
  }

  @Test
  void theLargestDeliverablePayloadArrivesWhole() {
    int size = Math.min(largestPayload(), LARGE_CAP);
    ClaimedEntry e = entry(sized(size));

    Throwable thrown = catchThrowable(() -> pub().publish(List.of(e)));
    assertThat(thrown)
        .as(
            "a publisher must deliver every message checkDeliverable accepts: a payload of %d"
                + " bytes (the largest it accepts, at most %d)",
            size, LARGE_CAP)
        .isNull();

    assertArrivedExactly(e, arrived(List.of(e)).get(e.messageId()));
  }

  @Test
  void anEntryOverTheSizeLimitIsRefusedAndFailsPermanentlyAlone() {
    Optional<ClaimedEntry> oversized = oversizedEntry(NEXT_ID.incrementAndGet());
    assumeThat(oversized).as("the broker has a size limit").isPresent();
    ClaimedEntry big = oversized.get();

    Throwable refused = catchThrowable(() -> pub().checkDeliverable(big.message()));
    assertThat(refused)
        .as(
            "checkDeliverable must refuse a message over the broker's size limit with an"
                + " IllegalArgumentException naming the limit")
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(refused.getMessage()).as("the refusal must name the limit").isNotBlank();

    List<ClaimedEntry> batch = List.of(entry(text(1)), big, entry(text(2)));
    publishMixed(
        batch, Map.of(big.id(), new Expected(true, SIZE_RULE)), "the entry over the size limit");
  }

  @Test
  void anUnroutableEntryFailsAloneAsDeclared() {
    Optional<ClaimedEntry> unroutable = unroutableEntry(NEXT_ID.incrementAndGet());
    assumeThat(unroutable).as("the publisher can route a namespace nowhere").isPresent();
    ClaimedEntry lost = unroutable.get();

    List<ClaimedEntry> batch = List.of(entry(text(1)), lost, entry(text(2)));
    publishMixed(batch, Map.of(lost.id(), unroutableRule()), "the entry routed nowhere");
  }

  @Test
  void aPartialFailureNamesExactlyTheFailedEntriesAndSendsTheRest() {
    boolean haveOversized = oversizedEntry(NEXT_ID.incrementAndGet()).isPresent();
    boolean haveUnroutable = unroutableEntry(NEXT_ID.incrementAndGet()).isPresent();
    assumeThat(haveOversized || haveUnroutable).as("publisher can be made to fail").isTrue();
    List<ClaimedEntry> batch = new ArrayList<>();
    Map<Long, Expected> bad = new HashMap<>();
    for (int i = 0; i < 24; i++) {
      if (i % 5 == 2) {
        boolean useOversized = haveOversized && (!haveUnroutable || i % 10 == 2);
        ClaimedEntry e =
            useOversized
                ? oversizedEntry(NEXT_ID.incrementAndGet()).orElseThrow()
                : unroutableEntry(NEXT_ID.incrementAndGet()).orElseThrow();
        bad.put(e.id(), useOversized ? new Expected(true, SIZE_RULE) : unroutableRule());
        batch.add(e);
      } else {
        batch.add(entry(text(i)));
      }
    }

    publishMixed(batch, bad, "every failed entry of the batch");
  }
}
