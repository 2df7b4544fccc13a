package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.FailedEntry;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.OutboxListener;
import dev.outbox.OutboxStats;
import dev.outbox.PumpResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The core's processing rules, on FakeClock + InMemoryStorage + RecordingPublisher. */
class OutboxProcessingTest {

  private static final Object TXN = new Object();

  private final FakeClock clock = new FakeClock();
  private final InMemoryStorage<Object> storage = new InMemoryStorage<>();
  private final RecordingPublisher publisher = new RecordingPublisher();

  private Outbox.Builder<Object> outbox(String id) {
    return Outbox.builder(storage, publisher)
        .processorId(id)
        .clock(clock)
        .batchSize(10)
        .claimDuration(Duration.ofSeconds(30))
        .retryBackoff(Duration.ofSeconds(1), Duration.ofSeconds(60))
        .retryJitter(0)
        .random(new SplittableRandom(1));
  }

  private static List<Message> messages(int n) {
    return IntStream.range(0, n)
        .mapToObj(i -> Message.builder().namespace("orders").key("k" + i).payload("m-" + i).build())
        .toList();
  }

  private static List<String> payloads(List<ClaimedEntry> entries) {
    return entries.stream().map(e -> e.message().payloadAsString()).toList();
  }

  @Test
  void publishesEverythingAndEmptiesTheOutbox() {
    Outbox<Object> outbox = outbox("p1").build();
    outbox.publish(TXN, messages(25));

    PumpResult result = outbox.pumpOutbox();

    assertThat(result).isEqualTo(new PumpResult(25, 25, 0, 0, 0));
    assertThat(payloads(publisher.published()))
        .containsExactlyElementsOf(IntStream.range(0, 25).mapToObj(i -> "m-" + i).toList());
    assertThat(storage.size()).isZero();
    assertThat(publisher.batches()).as("batches of at most 10").isEqualTo(3);
  }

  @Test
  void aPartialFailureDeletesOnlyTheSentMessages() {
    Outbox<Object> outbox = outbox("p1").build();
    outbox.publish(TXN, messages(6));
    publisher.failWhen(
        e ->
            e.message().payloadAsString().equals("m-2")
                || e.message().payloadAsString().equals("m-4"));

    PumpResult result = outbox.pumpOutbox();

    assertThat(result).isEqualTo(new PumpResult(6, 4, 2, 0, 0));
    assertThat(payloads(publisher.published())).containsExactly("m-0", "m-1", "m-3", "m-5");
    assertThat(payloads(storage.entries())).containsExactly("m-2", "m-4");
    assertThat(storage.entries()).extracting(ClaimedEntry::attempts).containsOnly(1);
    assertThat(storage.lastErrors().values())
        .allSatisfy(error -> assertThat(error).contains("RecordingPublisher was told to fail"));
  }

  @Test
  void aFailedMessageIsRetriedOnTheNextPumpAfterItsBackoff() {
    Outbox<Object> outbox = outbox("p1").build();
    outbox.publish(TXN, messages(2));
    publisher.failWhen(e -> e.message().payloadAsString().equals("m-0"));
    assertThat(outbox.pumpOutbox().failed()).as("charged: m-1 went through").isEqualTo(1);
    publisher.succeed();

    assertThat(outbox.pumpOutbox().claimed()).as("still backing off").isZero();
    clock.advance(Duration.ofSeconds(1));
    PumpResult retry = outbox.pumpOutbox();

    assertThat(retry.published()).isEqualTo(1);
    assertThat(publisher.published())
        .filteredOn(e -> e.message().payloadAsString().equals("m-0"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.attempts()).isEqualTo(1);
              assertThat(e.message().payloadAsString()).isEqualTo("m-0");
            });
    assertThat(storage.size()).isZero();
  }

  @Test
  void theRetryBackoffGrowsExponentiallyUpToItsCap() {
    Outbox<Object> outbox =
        outbox("p1").retryBackoff(Duration.ofSeconds(1), Duration.ofSeconds(5)).build();
    outbox.publish(TXN, messages(1));
    publisher.failWhen(e -> e.message().payloadAsString().equals("m-0"));
    List<Instant> attemptsOfM0 = new CopyOnWriteArrayList<>();
    publisher.beforePublish(
        batch -> {
          if (batch.stream().anyMatch(e -> e.message().payloadAsString().equals("m-0"))) {
            attemptsOfM0.add(clock.now());
          }
        });

    // A healthy message every 250 ms keeps the broker visibly working, so each failure of m-0
    // is charged and backs it off further.
    for (int step = 0; attemptsOfM0.size() < 6 && step < 200; step++) {
      outbox.publish(TXN, Message.builder().namespace("test").payload("healthy-" + step).build());
      outbox.pumpOutbox();
      clock.advance(Duration.ofMillis(250));
    }

    List<Duration> waits = new ArrayList<>();
    for (int i = 1; i < attemptsOfM0.size(); i++) {
      waits.add(Duration.between(attemptsOfM0.get(i - 1), attemptsOfM0.get(i)));
    }
    assertThat(waits)
        .containsExactly(
            Duration.ofSeconds(1),
            Duration.ofSeconds(2),
            Duration.ofSeconds(4),
            Duration.ofSeconds(5),
            Duration.ofSeconds(5));
    assertThat(storage.entries()).singleElement().extracting(ClaimedEntry::attempts).isEqualTo(6);
  }

  @Test
  void claimExpiryHandsADeadProcessorsEntriesToAnother() {
    Outbox<Object> alive = outbox("alive").build();
    alive.publish(TXN, messages(3));
    // Processor "dead" claims a batch and dies before publishing it.
    UUID deadToken = UUID.randomUUID();
    List<ClaimedEntry> held =
        storage.claim(
            new ClaimRequest("dead", deadToken, clock.now(), clock.now().plusSeconds(30), 10));
    assertThat(held).hasSize(3);

    assertThat(alive.pumpOutbox().claimed()).as("claims still valid").isZero();
    clock.advance(Duration.ofSeconds(30));
    PumpResult takeover = alive.pumpOutbox();

    assertThat(takeover.published()).isEqualTo(3);
    assertThat(payloads(publisher.published())).containsExactly("m-0", "m-1", "m-2");
    assertThat(storage.delete(deadToken, List.of(held.get(0).id()))).as("fenced").isZero();
  }

  @Test
  void twoProcessorsWithValidClaimsNeverPublishTheSameEntry() throws Exception {
    Outbox<Object> a = outbox("a").build();
    Outbox<Object> b = outbox("b").build();
    a.publish(TXN, messages(40));
    // Interleave: a claims a batch and, while it is in flight, b pumps everything it can.
    List<Integer> bDuringA = new CopyOnWriteArrayList<>();
    publisher.beforePublish(
        batch -> {
          if (batch.get(0).message().payloadAsString().equals("m-0") && bDuringA.isEmpty()) {
            bDuringA.add(b.pumpOutbox().published());
          }
        });

    a.pumpOutbox();
    b.pumpOutbox();

    assertThat(bDuringA).containsExactly(30);
    assertThat(publisher.distinctCount()).isEqualTo(40);
    assertThat(publisher.deliveries().values()).containsOnly(1);
  }

  @Test
  void anEntryIsDeadLetteredWhenItReachesMaxAttempts() {
    List<String> events = new CopyOnWriteArrayList<>();
    Outbox<Object> outbox =
        outbox("p1")
            .maxAttempts(3)
            .listener(
                new OutboxListener() {
                  @Override
                  public void onFailed(ClaimedEntry e, FailedEntry f, Throwable cause) {
                    events.add("failed " + f.attempts());
                  }

                  @Override
                  public void onDeadLettered(ClaimedEntry e, FailedEntry f, Throwable cause) {
                    events.add("dead " + f.attempts());
                  }
                })
            .build();
    outbox.publish(TXN, messages(2));
    publisher.failWhen(e -> e.message().payloadAsString().equals("m-1"));

    for (int i = 0; i < 3; i++) {
      // A healthy neighbour each time shows the broker works: m-1's failures are its own.
      outbox.publish(TXN, Message.builder().namespace("test").payload("healthy-" + i).build());
      outbox.pumpOutbox();
      clock.advance(Duration.ofMinutes(1));
    }

    assertThat(events).containsExactly("failed 1", "failed 2", "dead 3");
    List<DeadLetter> dead = outbox.deadLetters().list(10);
    assertThat(dead)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.message().payloadAsString()).isEqualTo("m-1");
              assertThat(d.attempts()).isEqualTo(3);
              assertThat(d.lastError()).contains("told to fail");
              assertThat(d.deadLetteredAt())
                  .isEqualTo(FakeClock.DEFAULT_START.plus(Duration.ofMinutes(2)));
            });
    assertThat(storage.size()).isZero();
    assertThat(outbox.pumpOutbox()).isEqualTo(PumpResult.EMPTY);
  }

  @Test
  void aPermanentFailureIsDeadLetteredAtOnceAndCanBeRequeued() {
    Outbox<Object> outbox = outbox("p1").build(); // unlimited attempts
    outbox.publish(TXN, messages(3));
    publisher.failPermanentlyWhen(e -> e.message().payloadAsString().equals("m-0"));

    PumpResult result = outbox.pumpOutbox();

    assertThat(result).isEqualTo(new PumpResult(3, 2, 0, 1, 0));
    assertThat(outbox.deadLetters().list(10))
        .extracting(d -> d.message().payloadAsString())
        .containsExactly("m-0");

    publisher.succeed();
    assertThat(outbox.deadLetters().requeueAll()).isEqualTo(1);
    assertThat(outbox.pumpOutbox().published()).isEqualTo(1);
    assertThat(publisher.distinctCount()).isEqualTo(3);
    assertThat(outbox.deadLetters().list(10)).isEmpty();
  }

  @Test
  void aPublisherThatThrowsIsAnOutageThatChargesNothingAndLosesNothing() {
    Outbox<Object> outbox = outbox("p1").build();
    outbox.publish(TXN, messages(4));
    publisher.failAll(new IllegalStateException("connection reset"));

    PumpResult result = outbox.pumpOutbox();

    assertThat(result).isEqualTo(new PumpResult(4, 0, 0, 0, 4));
    assertThat(result.outage()).isTrue();
    assertThat(publisher.batches()).as("the batch, then each half once").isEqualTo(3);
    assertThat(storage.size()).isEqualTo(4);
    assertThat(storage.entries()).extracting(ClaimedEntry::attempts).containsOnly(0);
    assertThat(storage.lastErrors().values())
        .containsOnly("java.lang.IllegalStateException: connection reset");
  }

  @Test
  void aSlowPublishRenewsTheClaimSoNobodyElseTakesTheBatch() throws Exception {
    Outbox<Object> slow = outbox("slow").build();
    Outbox<Object> other = outbox("other").build();
    slow.publish(TXN, messages(3));
    List<PumpResult> othersTry = new CopyOnWriteArrayList<>();
    publisher.beforePublish(
        batch -> {
          if (othersTry.isEmpty()) {
            // While "slow" publishes, 100 s pass: past the 30 s claim, in 10 s steps, each step
            // releasing the renewal timer (due every 15 s) before the next. Two waits are
            // pending throughout: the renewal's and the publish timeout's (2 min).
            for (int i = 0; i < 10; i++) {
              clock.awaitWaiters(2, Duration.ofSeconds(5));
              clock.advance(Duration.ofSeconds(10));
              awaitRenewalDone();
            }
            othersTry.add(other.pumpOutbox());
          }
        });

    slow.pumpOutbox();

    assertThat(othersTry).containsExactly(PumpResult.EMPTY);
    assertThat(publisher.deliveries().values()).containsOnly(1);
    assertThat(storage.size()).isZero();
    slow.close();
    other.close();
  }

  /** Waits until the renewal that a clock step may have released has run and rescheduled. */
  private void awaitRenewalDone() {
    clock.awaitWaiters(2, Duration.ofSeconds(5));
  }

  @Test
  void statsDescribeTheBacklog() {
    Outbox<Object> outbox = outbox("p1").build();
    outbox.publish(TXN, messages(5));
    clock.advance(Duration.ofSeconds(7));
    publisher.failWhen(e -> e.message().payloadAsString().equals("m-4"));
    outbox.pumpOutbox();

    OutboxStats stats = outbox.stats();

    assertThat(stats)
        .isEqualTo(
            OutboxStats.builder()
                .pending(1)
                .failing(1)
                .oldestPendingAge(Duration.ofSeconds(7))
                .build());
  }

  @Test
  void badMessagesAreRefusedWithTheirIndexAndLimit() {
    Outbox<Object> outbox = outbox("p1").maxMessageBytes(100).build();
    Message big = Message.builder().namespace("orders").payload(new byte[200]).build();
    List<Message> withNull = new ArrayList<>(messages(2));
    withNull.add(null);

    assertThatThrownBy(() -> outbox.publish(TXN, messages(1).get(0), big))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("message 1")
        .hasMessageContaining("maxMessageBytes is 100");
    assertThatThrownBy(() -> outbox.publish(TXN, withNull))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("message 2 of 3 is null");
    assertThat(storage.size()).as("nothing of a refused call is written").isZero();
  }

  @Test
  void aClosedOutboxRefusesMessages() {
    Outbox<Object> outbox = outbox("p1").build();
    outbox.close();
    outbox.close(); // idempotent

    assertThatThrownBy(() -> outbox.publish(TXN, messages(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(outbox::start).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aListenerThatThrowsChangesNothing() {
    Outbox<Object> outbox =
        outbox("p1")
            .listener(
                new OutboxListener() {
                  @Override
                  public void onPublished(List<ClaimedEntry> entries) {
                    throw new IllegalStateException("listener bug");
                  }
                })
            .build();
    outbox.publish(TXN, messages(3));

    assertThat(outbox.pumpOutbox().published()).isEqualTo(3);
    assertThat(storage.size()).isZero();
  }
}
