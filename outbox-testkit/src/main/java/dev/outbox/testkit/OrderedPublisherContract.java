package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of a {@link Publisher} that {@link Publisher#keepsOrder() keeps order}: everything
 * {@link PublisherContract} checks, and on top: within one call a key's entries (same namespace and
 * key) arrive in list order, several keys interleaved; once a key's entry fails, every later entry
 * of that key in the call is reported failed (retryably) and none of them arrives, while other keys
 * arrive.
 *
 * <p>Extend it instead of {@link PublisherContract} for a publisher whose {@code keepsOrder()} is
 * true, and override {@link #retryablyFailing(Message)}; a publisher that does not keep order fails
 * every test here.
 */
public abstract class OrderedPublisherContract extends PublisherContract {

  /**
   * For the ordered tests of a publisher that {@link Publisher#keepsOrder() keeps order}: a message
   * with the same namespace and key as {@code message} (and, preferably, its payload) that the
   * publisher under test fails retryably, alone, when it is published, for instance one the broker
   * refuses or routes to a topic that does not exist. It stands for a transient failure in the
   * middle of a key's run: the tests then check that the key's later entries of the call fail too.
   *
   * <p>There is no default: a publisher that keeps order must override it. Return {@code
   * Optional.empty()} only when the publisher truly cannot be made to fail one entry retryably; the
   * retryable-failure test is then skipped (the permanent-failure one still runs when {@link
   * #oversizedEntry} gives an entry).
   */
  protected Optional<Message> retryablyFailing(Message message) {
    throw new AssertionError(
        getClass().getName()
            + ": the publisher keeps order (keepsOrder() is true), so the suite must see it fail a"
            + " key's entry in the middle of a call: override retryablyFailing(Message) to return a"
            + " message of the same namespace and key that the publisher fails retryably"
            + " (Optional.empty() only if it cannot be made to)");
  }

  // ---------------------------------------------------------------- order

  private static final String ORDER_RULE =
      "a publisher whose keepsOrder() is true must deliver a key's entries (same namespace and"
          + " key) of one call in list order";

  private static final String HOLD_RULE =
      "a publisher whose keepsOrder() is true must, once an entry of a key fails in a call, fail"
          + " every later entry of that key in the call, retryably, and not deliver them";

  /** Every test here needs a publisher that keeps order: one that does not fails, not skips. */
  @BeforeEach
  void requireKeepsOrder() {
    assertThat(pub().keepsOrder())
        .as(
            "%s extends OrderedPublisherContract but its publisher's keepsOrder() is false;"
                + " extend PublisherContract for a publisher that does not keep order",
            getClass().getSimpleName())
        .isTrue();
  }

  private Message keyed(String key, int seq) {
    return Message.builder()
        .namespace(namespace())
        .key(key)
        .payload(key + "#" + seq)
        .header("seq", Integer.toString(seq))
        .build();
  }

  /** The printable form of a key for failure messages. */
  private static String keyText(byte[] key) {
    return key == null ? "(none)" : new String(key, StandardCharsets.UTF_8);
  }

  /**
   * Fails, naming the key, unless every key's entries of {@code sent} that arrived first arrived in
   * list order. Duplicates count at their first arrival.
   */
  private static void assertKeyOrder(List<ClaimedEntry> sent, List<ReceivedMessage> got) {
    Map<UUID, ClaimedEntry> byMessageId = new HashMap<>();
    Map<String, List<Long>> expected = new LinkedHashMap<>();
    for (ClaimedEntry e : sent) {
      byMessageId.put(e.messageId(), e);
      if (e.message().key() != null) {
        expected.computeIfAbsent(keyText(e.message().key()), k -> new ArrayList<>()).add(e.id());
      }
    }
    Map<String, List<Long>> arrived = new HashMap<>();
    Set<UUID> seen = new HashSet<>();
    for (ReceivedMessage r : got) {
      ClaimedEntry e = byMessageId.get(r.messageId());
      if (e == null || e.message().key() == null || !seen.add(r.messageId())) {
        continue;
      }
      arrived.computeIfAbsent(keyText(e.message().key()), k -> new ArrayList<>()).add(e.id());
    }
    expected.forEach(
        (key, ids) -> {
          List<Long> actual = arrived.getOrDefault(key, List.of());
          List<Long> inListOrder = ids.stream().filter(actual::contains).toList();
          assertThat(actual)
              .as(
                  "%s: key '%s' was published as entries %s and arrived (first deliveries) as %s",
                  ORDER_RULE, key, ids, actual)
              .containsExactlyElementsOf(inListOrder);
        });
  }

  /**
   * Reads what arrived after a call in which {@code failed} entries failed: waits the read timeout
   * for every entry of the batch (so that a wrongly delivered one shows), checks that the others
   * all arrived and that {@code mustNotArrive} did not.
   */
  private List<ReceivedMessage> readAfterFailure(
      List<ClaimedEntry> batch, Set<Long> failed, Set<Long> mustNotArrive) {
    Duration timeout = readYourWritesTimeout();
    List<ReceivedMessage> got =
        assertTimeoutPreemptively(
            timeout.plusSeconds(10),
            () -> received(namespace(), batch.size(), timeout),
            () -> "received(...) must return within its timeout (" + timeout + ") or soon after");
    Set<UUID> ids = new HashSet<>();
    got.forEach(r -> ids.add(r.messageId()));
    List<Long> missing =
        batch.stream()
            .filter(e -> !failed.contains(e.id()) && !ids.contains(e.messageId()))
            .map(ClaimedEntry::id)
            .toList();
    assertThat(missing)
        .as(
            "%s, but other keys' entries and the key's earlier ones must be delivered: entry ids"
                + " not readable within %s",
            HOLD_RULE, timeout)
        .isEmpty();
    List<Long> wronglyArrived =
        batch.stream()
            .filter(e -> mustNotArrive.contains(e.id()) && ids.contains(e.messageId()))
            .map(ClaimedEntry::id)
            .toList();
    assertThat(wronglyArrived)
        .as("%s; these later entries of the failed key arrived anyway", HOLD_RULE)
        .isEmpty();
    return got;
  }

  /**
   * Publishes a batch in which one entry of the hot key fails, and checks the rule: the call names
   * exactly that entry and the key's later ones, the later ones retryable and not delivered,
   * everything else delivered, each key in order.
   */
  private void publishWithFailingHead(
      List<ClaimedEntry> batch, ClaimedEntry head, Expected headRule) {
    Object headKey = List.of(head.message().namespace(), keyText(head.message().key()));
    int at = batch.indexOf(head);
    Set<Long> followers = new LinkedHashSet<>();
    for (ClaimedEntry e : batch.subList(at + 1, batch.size())) {
      if (List.of(e.message().namespace(), keyText(e.message().key())).equals(headKey)) {
        followers.add(e.id());
      }
    }
    Set<Long> failed = new LinkedHashSet<>(followers);
    failed.add(head.id());

    Throwable thrown = catchThrowable(() -> pub().publish(batch));

    assertThat(thrown)
        .as("%s: publish must throw a PublishException naming them", HOLD_RULE)
        .isInstanceOf(PublishException.class);
    PublishException failure = (PublishException) thrown;
    assertThat(failure.failures().keySet())
        .as(
            "%s: the PublishException must name the failed entry %d and the key's later entries"
                + " %s, and no other",
            HOLD_RULE, head.id(), followers)
        .containsExactlyInAnyOrderElementsOf(failed);
    assertThat(failure.failureOf(head.id()).permanent())
        .as("%s; entry %d: %s", headRule.rule(), head.id(), failure.failureOf(head.id()))
        .isEqualTo(headRule.permanent());
    for (long id : followers) {
      assertThat(failure.failureOf(id).permanent())
          .as(
              "%s: a later entry of the key fails retryably (entry %d: %s)",
              HOLD_RULE, id, failure.failureOf(id))
          .isFalse();
    }
    List<ReceivedMessage> got = readAfterFailure(batch, failed, followers);
    assertKeyOrder(batch, got);
  }

  /** A batch with one entry meant to fail: the head of the rest of its key's run. */
  private record RunWithHead(List<ClaimedEntry> batch, ClaimedEntry head) {}

  /**
   * Eight entries of a hot key with other keys' entries and keyless ones interleaved; the hot key's
   * entry at {@code failAt} is {@code failing} applied to the message it would have had.
   */
  private RunWithHead runWithOthers(
      String hot, int failAt, Function<Message, ClaimedEntry> failing) {
    List<ClaimedEntry> batch = new ArrayList<>();
    ClaimedEntry head = null;
    for (int i = 0; i < 8; i++) {
      Message m = keyed(hot, i);
      ClaimedEntry e = entry(m);
      if (i == failAt) {
        e = failing.apply(m);
        head = e;
      }
      batch.add(e);
      batch.add(entry(keyed("other-" + (i % 3), i)));
      if (i % 4 == 1) {
        batch.add(entry(Message.builder().namespace(namespace()).payload("no key " + i).build()));
      }
    }
    return new RunWithHead(batch, head);
  }

  @Test
  void aKeysEntriesOfOneCallArriveInListOrder() {
    List<ClaimedEntry> batch = new ArrayList<>();
    int[] next = new int[8];
    // Two hot keys with long runs, six cold ones, and keyless entries, interleaved.
    for (int i = 0; i < 60; i++) {
      int k = i % 5 < 3 ? i % 5 % 2 : 2 + (i * 7) % 6;
      String key = k < 2 ? "hot-" + k : "cold-" + k;
      batch.add(entry(keyed(key, next[k]++)));
      if (i % 9 == 4) {
        batch.add(entry(Message.builder().namespace(namespace()).payload("no key " + i).build()));
      }
    }

    publishOk(batch);

    Duration timeout = readYourWritesTimeout();
    List<ReceivedMessage> got =
        assertTimeoutPreemptively(
            timeout.plusSeconds(10),
            () -> received(namespace(), batch.size(), timeout),
            () -> "received(...) must return within its timeout (" + timeout + ") or soon after");
    Set<UUID> ids = new HashSet<>();
    got.forEach(r -> ids.add(r.messageId()));
    assertThat(batch.stream().filter(e -> !ids.contains(e.messageId())).map(ClaimedEntry::id))
        .as("%s: entry ids not readable within %s", READ_RULE, timeout)
        .isEmpty();
    assertKeyOrder(batch, got);
  }

  @Test
  void whenAKeysEntryFailsRetryablyItsLaterEntriesFailRetryablyAndDoNotArrive() {
    Message probe = keyed("hot", 3);
    Optional<Message> failing = retryablyFailing(probe);
    assumeThat(failing).as("the publisher can be made to fail an entry retryably").isPresent();
    assertThat(failing.get().namespace())
        .as("retryablyFailing must keep the namespace")
        .isEqualTo(probe.namespace());
    assertThat(failing.get().key()).as("retryablyFailing must keep the key").isEqualTo(probe.key());
    RunWithHead run = runWithOthers("hot", 3, m -> entry(retryablyFailing(m).orElseThrow()));

    publishWithFailingHead(
        run.batch(),
        run.head(),
        new Expected(
            false, "retryablyFailing(...) must return a message the publisher fails retryably"));
  }

  @Test
  void whenAKeysEntryFailsForGoodItsLaterEntriesFailRetryablyAndDoNotArrive() {
    Optional<ClaimedEntry> oversized = oversizedEntry(NEXT_ID.incrementAndGet());
    assumeThat(oversized).as("the broker has a size limit").isPresent();
    RunWithHead run =
        runWithOthers(
            "doomed",
            2,
            m ->
                entry(
                    oversized.get().id(),
                    oversized.get().message().toBuilder().key(m.key()).build()));

    publishWithFailingHead(run.batch(), run.head(), new Expected(true, SIZE_RULE));
  }
}
