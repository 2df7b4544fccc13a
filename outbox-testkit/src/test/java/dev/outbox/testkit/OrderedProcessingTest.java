package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.BlockedKey;
import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.Message;
import dev.outbox.Ordering;
import dev.outbox.Outbox;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import dev.outbox.PumpResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The core's side of per-key ordering, over {@link InMemoryStorage} in its ordered modes: which
 * entries a publisher gets in one call, what is charged when a key's head fails, how halving keeps
 * runs whole, and what happens to a key whose head is dead-lettered.
 */
class OrderedProcessingTest {

  /**
   * A publisher that records every call and delivery; fails entries a predicate picks (retryably,
   * or permanently), and, when it keeps order, fails a key's later entries in the call after one
   * failed, as {@link Publisher#keepsOrder()} demands.
   */
  static class OrderedPublisher implements Publisher {
    final boolean keepsOrder;
    final List<List<ClaimedEntry>> calls = new ArrayList<>();
    final List<ClaimedEntry> delivered = new ArrayList<>();
    Predicate<ClaimedEntry> fail = e -> false;
    Predicate<ClaimedEntry> failPermanently = e -> false;
    boolean outage;

    OrderedPublisher(boolean keepsOrder) {
      this.keepsOrder = keepsOrder;
    }

    @Override
    public synchronized void publish(List<ClaimedEntry> entries) throws PublishException {
      calls.add(List.copyOf(entries));
      if (outage) {
        throw new IllegalStateException("broker down");
      }
      PublishException.Builder failures = PublishException.builder();
      Set<String> failedKeys = new HashSet<>();
      for (ClaimedEntry e : entries) {
        String key = keyOf(e);
        if (keepsOrder && key != null && failedKeys.contains(key)) {
          failures.retryable(e, new IllegalStateException("an earlier entry of its key failed"));
        } else if (failPermanently.test(e)) {
          failures.permanent(e, new IllegalArgumentException("poison " + e.id()));
          failedKeys.add(key);
        } else if (fail.test(e)) {
          failures.retryable(e, new IllegalStateException("transient " + e.id()));
          failedKeys.add(key);
        } else {
          delivered.add(e);
        }
      }
      failures.throwIfAny();
    }

    @Override
    public boolean keepsOrder() {
      return keepsOrder;
    }

    synchronized List<String> payloads() {
      return delivered.stream().map(e -> e.message().payloadAsString()).toList();
    }
  }

  static String keyOf(ClaimedEntry e) {
    return e.message().key() == null ? null : e.message().keyAsString();
  }

  static Message msg(String key, int seq) {
    return Message.builder().namespace("orders").key(key).payload(key + ":" + seq).build();
  }

  private static Outbox<Object> outbox(
      InMemoryStorage<Object> storage, Publisher publisher, FakeClock clock, int maxAttempts) {
    return Outbox.builder(storage, publisher)
        .clock(clock)
        .batchSize(100)
        .maxAttempts(maxAttempts)
        .retryBackoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
        .retryJitter(0)
        .build();
  }

  /** The first delivery of every payload, per key, must come in sequence order. */
  static int violations(List<String> deliveredPayloads) {
    Map<String, Integer> highest = new HashMap<>();
    Set<String> seen = new HashSet<>();
    int violations = 0;
    for (String p : deliveredPayloads) {
      if (!seen.add(p)) {
        continue;
      }
      String key = p.substring(0, p.indexOf(':'));
      int seq = Integer.parseInt(p.substring(p.indexOf(':') + 1));
      Integer before = highest.get(key);
      if (before != null && seq < before) {
        violations++;
      }
      highest.merge(key, seq, Math::max);
    }
    return violations;
  }

  @Test
  void aPublisherThatKeepsOrderGetsWholeRunsOthersOneEntryPerKeyPerCall() {
    for (boolean keeps : new boolean[] {true, false}) {
      InMemoryStorage<Object> storage = new InMemoryStorage<>(Ordering.BY_KEY);
      OrderedPublisher publisher = new OrderedPublisher(keeps);
      try (Outbox<Object> outbox = outbox(storage, publisher, new FakeClock(), 5)) {
        for (int seq = 0; seq < 5; seq++) {
          outbox.publish(new Object(), msg("a", seq), msg("b", seq));
        }
        outbox.publish(new Object(), Message.builder().namespace("orders").payload("x").build());
        outbox.pumpOutbox();
        outbox.pumpOutbox();
        outbox.pumpOutbox();
        outbox.pumpOutbox();
        outbox.pumpOutbox();
      }
      assertThat(publisher.delivered).hasSize(11);
      assertThat(violations(publisher.payloads().stream().filter(p -> p.contains(":")).toList()))
          .isZero();
      if (keeps) {
        assertThat(publisher.calls).hasSize(1);
      } else {
        for (List<ClaimedEntry> call : publisher.calls) {
          List<String> keys = call.stream().map(OrderedProcessingTest::keyOf).toList();
          assertThat(keys.stream().filter(k -> k != null).distinct().count())
              .as("one entry per key in %s", keys)
              .isEqualTo(keys.stream().filter(k -> k != null).count());
        }
        assertThat(publisher.calls).hasSize(5);
      }
    }
  }

  @Test
  void onePassDrainsAKeyEvenWhenThePublisherTakesOneEntryPerKeyPerCall() {
    InMemoryStorage<Object> storage = new InMemoryStorage<>(Ordering.BY_KEY);
    OrderedPublisher publisher = new OrderedPublisher(false);
    try (Outbox<Object> outbox = outbox(storage, publisher, new FakeClock(), 5)) {
      for (int seq = 0; seq < 5; seq++) {
        outbox.publish(new Object(), msg("a", seq));
      }
      assertThat(outbox.pumpOutbox().published()).isEqualTo(5);
    }
    assertThat(publisher.payloads()).containsExactly("a:0", "a:1", "a:2", "a:3", "a:4");
  }

  @Test
  void aFailedHeadIsChargedAndItsFollowersWaitUnchargedWhileOtherKeysFlow() {
    InMemoryStorage<Object> storage = new InMemoryStorage<>(Ordering.BY_KEY);
    OrderedPublisher publisher = new OrderedPublisher(true);
    FakeClock clock = new FakeClock();
    try (Outbox<Object> outbox = outbox(storage, publisher, clock, 5)) {
      for (int seq = 0; seq < 3; seq++) {
        outbox.publish(new Object(), msg("a", seq), msg("b", seq));
      }
      publisher.fail = e -> e.message().payloadAsString().equals("a:1");
      PumpResult first = outbox.pumpOutbox();
      assertThat(first.published()).isEqualTo(4); // a:0 and b:0..2
      assertThat(first.failed()).isEqualTo(1); // a:1, charged
      assertThat(first.released()).isEqualTo(1); // a:2, not charged
      Map<String, Integer> attempts = new HashMap<>();
      for (ClaimedEntry e : storage.entries()) {
        attempts.put(e.message().payloadAsString(), e.attempts());
      }
      assertThat(attempts).containsExactlyInAnyOrderEntriesOf(Map.of("a:1", 1, "a:2", 0));

      // a:2 is available now but its head waits for its retry time: nothing may be claimed.
      assertThat(outbox.pumpOutbox().claimed()).isZero();
      publisher.fail = e -> false;
      clock.advance(Duration.ofSeconds(2));
      assertThat(outbox.pumpOutbox().published()).isEqualTo(2);
    }
    assertThat(publisher.payloads()).containsSubsequence("a:0", "a:1", "a:2");
    assertThat(violations(publisher.payloads())).isZero();
  }

  @Test
  void halvingAfterAnOutageNeverSplitsARunAndChargesNothing() {
    InMemoryStorage<Object> storage = new InMemoryStorage<>(Ordering.BY_KEY);
    OrderedPublisher publisher = new OrderedPublisher(true);
    try (Outbox<Object> outbox = outbox(storage, publisher, new FakeClock(), 5)) {
      for (int seq = 0; seq < 4; seq++) {
        outbox.publish(new Object(), msg("a", seq), msg("b", seq), msg("c", seq));
      }
      publisher.outage = true;
      PumpResult down = outbox.pumpOutbox();
      assertThat(down.released()).isEqualTo(12);
      assertThat(down.failed()).isZero();
      assertThat(storage.entries()).allSatisfy(e -> assertThat(e.attempts()).isZero());
      assertThat(publisher.calls).hasSizeGreaterThan(1);
      for (List<ClaimedEntry> call : publisher.calls) {
        Map<String, Long> perKey = new HashMap<>();
        for (ClaimedEntry e : call) {
          perKey.merge(keyOf(e), 1L, Long::sum);
        }
        assertThat(perKey.values()).as("whole runs only in %s", call).containsOnly(4L);
      }
    }
  }

  @Test
  void halvingIsolatesAPoisonedRunWhileTheOthersGoThrough() {
    InMemoryStorage<Object> storage = new InMemoryStorage<>(Ordering.BY_KEY);
    // A publisher that fails a whole call when it holds b:0 (say, a batch-level refusal).
    OrderedPublisher publisher =
        new OrderedPublisher(true) {
          @Override
          public synchronized void publish(List<ClaimedEntry> entries) throws PublishException {
            if (entries.stream().anyMatch(e -> e.message().payloadAsString().equals("b:0"))) {
              calls.add(List.copyOf(entries));
              throw new IllegalStateException("refused");
            }
            super.publish(entries);
          }
        };
    FakeClock clock = new FakeClock();
    try (Outbox<Object> outbox = outbox(storage, publisher, clock, 5)) {
      for (int seq = 0; seq < 3; seq++) {
        outbox.publish(new Object(), msg("a", seq), msg("b", seq), msg("c", seq), msg("d", seq));
      }
      PumpResult r = outbox.pumpOutbox();
      assertThat(r.published()).isEqualTo(9);
      assertThat(r.failed()).isEqualTo(1); // b:0 charged
      assertThat(r.released()).isEqualTo(2); // b:1, b:2 uncharged
    }
    Map<String, Integer> attempts = new HashMap<>();
    for (ClaimedEntry e : storage.entries()) {
      attempts.put(e.message().payloadAsString(), e.attempts());
    }
    assertThat(attempts).containsExactlyInAnyOrderEntriesOf(Map.of("b:0", 1, "b:1", 0, "b:2", 0));
    assertThat(violations(publisher.payloads())).isZero();
  }

  @Test
  void byKeyADeadLetteredHeadLetsItsKeyContinue() {
    InMemoryStorage<Object> storage = new InMemoryStorage<>(Ordering.BY_KEY);
    OrderedPublisher publisher = new OrderedPublisher(true);
    try (Outbox<Object> outbox = outbox(storage, publisher, new FakeClock(), 5)) {
      outbox.publish(new Object(), msg("a", 0), msg("a", 1), msg("a", 2), msg("b", 0));
      publisher.failPermanently = e -> e.message().payloadAsString().equals("a:1");
      outbox.pumpOutbox();
      assertThat(outbox.deadLetters().list(10))
          .extracting(d -> d.message().payloadAsString())
          .containsExactly("a:1");
      assertThat(outbox.deadLetters().blockedKeys(10)).isEmpty();
      outbox.pumpOutbox();
    }
    assertThat(publisher.payloads()).containsExactly("a:0", "b:0", "a:2");
  }

  @Test
  void byKeyBlockingADeadLetteredHeadHoldsItsKeyUntilAnOperatorRequeuesOrPurges() {
    InMemoryStorage<Object> storage = new InMemoryStorage<>(Ordering.BY_KEY_BLOCKING);
    OrderedPublisher publisher = new OrderedPublisher(true);
    FakeClock clock = new FakeClock();
    try (Outbox<Object> outbox = outbox(storage, publisher, clock, 2)) {
      outbox.publish(new Object(), msg("a", 0), msg("a", 1), msg("a", 2), msg("b", 0));
      publisher.fail = e -> e.message().payloadAsString().equals("a:0");
      outbox.pumpOutbox();
      clock.advance(Duration.ofSeconds(2));
      // A failure is charged only when the same call shows the broker working: b:1 goes along.
      outbox.publish(new Object(), msg("b", 1));
      outbox.pumpOutbox(); // second charged failure: a:0 is dead-lettered
      List<DeadLetter> dead = outbox.deadLetters().list(10);
      assertThat(dead).extracting(d -> d.message().payloadAsString()).containsExactly("a:0");
      assertThat(publisher.payloads()).containsExactly("b:0", "b:1");

      clock.advance(Duration.ofSeconds(2));
      assertThat(outbox.pumpOutbox().claimed()).as("a:1 and a:2 wait").isZero();
      List<BlockedKey> blocked = outbox.deadLetters().blockedKeys(10);
      assertThat(blocked).hasSize(1);
      assertThat(new String(blocked.get(0).key())).isEqualTo("a");
      assertThat(blocked.get(0).namespace()).isEqualTo("orders");
      assertThat(blocked.get(0).deadLetterIds()).containsExactly(dead.get(0).id());
      assertThat(blocked.get(0).waiting()).isEqualTo(2);

      // Requeue: the dead letter goes first (it keeps its id), then the rest of the key.
      publisher.fail = e -> false;
      assertThat(outbox.deadLetters().requeue(dead.get(0).id())).isEqualTo(1);
      assertThat(outbox.deadLetters().blockedKeys(10)).isEmpty();
      outbox.pumpOutbox();
      assertThat(publisher.payloads()).containsExactly("b:0", "b:1", "a:0", "a:1", "a:2");

      // Purge (skip): the key continues without it.
      outbox.publish(new Object(), msg("c", 0), msg("c", 1), msg("d", 0));
      publisher.failPermanently = e -> e.message().payloadAsString().equals("c:0");
      outbox.pumpOutbox();
      assertThat(outbox.pumpOutbox().claimed()).isZero();
      long poison = outbox.deadLetters().blockedKeys(10).get(0).deadLetterIds().get(0);
      assertThat(outbox.deadLetters().purge(poison)).isEqualTo(1);
      outbox.pumpOutbox();
      assertThat(publisher.payloads()).endsWith("c:1");
    }
  }

  @Test
  void concurrentProcessorsWithRandomFailuresNeverReorderAKey() throws Exception {
    InMemoryStorage<Object> storage = new InMemoryStorage<>(Ordering.BY_KEY);
    OrderedPublisher shared = new OrderedPublisher(true);
    Random random = new Random(42);
    shared.fail = e -> random.nextInt(10) == 0;
    int keys = 20;
    int perKey = 50;
    List<Outbox<Object>> outboxes = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      outboxes.add(
          Outbox.builder(storage, shared)
              .processorId("p" + i)
              .batchSize(7)
              .unlimitedAttempts()
              .processInterval(Duration.ofMillis(5))
              .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(5))
              .build());
    }
    for (int seq = 0; seq < perKey; seq++) {
      List<Message> batch = new ArrayList<>();
      for (int k = 0; k < keys; k++) {
        batch.add(msg("k" + k, seq));
      }
      outboxes.get(0).publish(new Object(), batch);
    }
    outboxes.forEach(Outbox::start);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (storage.size() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    outboxes.forEach(Outbox::close);
    assertThat(storage.size()).isZero();
    List<String> payloads = shared.payloads();
    assertThat(new HashSet<>(payloads)).hasSize(keys * perKey);
    assertThat(violations(payloads)).isZero();
  }
}
