package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.Clock;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.OutboxHealth;
import dev.outbox.OutboxListener;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import dev.outbox.PumpResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Regression tests for the acceptance run's findings (issue "Never lose, never wedge"): each one
 * lost or wedged messages on the code before the fix. Time is a {@link FakeClock}: nothing sleeps.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NeverLoseNeverWedgeTest {

  private static final Object TXN = new Object();
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final FakeClock clock = new FakeClock();
  private final InMemoryStorage<Object> storage = new InMemoryStorage<>();
  private final List<Outbox<Object>> outboxes = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeAll() {
    outboxes.forEach(Outbox::close);
  }

  /**
   * An outbox on the fake clock. Its lease renewal (every half claim, 12 h) and publish timeout (1
   * day) wait far longer than any wait of the loop (at most minutes), so {@link
   * #advanceToTheLoopsNextWait} can tell them apart; tests of those two set their own.
   */
  private Outbox.Builder<Object> outbox(String id, Publisher publisher) {
    return Outbox.builder(storage, publisher)
        .processorId(id)
        .clock(clock)
        .claimDuration(Duration.ofDays(1))
        .publishTimeout(Duration.ofDays(1))
        .batchSize(100)
        .retryJitter(0)
        .random(new SplittableRandom(11));
  }

  private Outbox<Object> build(Outbox.Builder<Object> builder) {
    Outbox<Object> o = builder.build();
    outboxes.add(o);
    return o;
  }

  private static List<Message> messages(String prefix, int n) {
    return IntStream.range(0, n)
        .mapToObj(i -> Message.builder().namespace("test").payload(prefix + i).build())
        .toList();
  }

  // ---------------------------------------------------------------- 2: an outage is not poison

  @Test
  void aSixtySecondBrokerOutageDeadLettersNothingWhileAPoisonMessageStillIsDeadLettered() {
    Instant brokerBack = clock.now().plusSeconds(60);
    AtomicInteger callsDuringOutage = new AtomicInteger();
    RecordingPublisher broker =
        new RecordingPublisher()
            .failWhen(e -> e.message().payloadAsString().equals("poison"))
            .beforePublish(
                batch -> {
                  if (clock.now().isBefore(brokerBack)) {
                    callsDuringOutage.incrementAndGet();
                    throw new IllegalStateException("broker unreachable (simulated outage)");
                  }
                });
    Outbox<Object> outbox =
        build(outbox("p1", broker).maxAttempts(5).processInterval(Duration.ofSeconds(1)));
    List<Message> backlog = new ArrayList<>(messages("m-", 5000));
    backlog.add(2500, Message.builder().namespace("test").payload("poison").build());
    outbox.publish(TXN, backlog);

    outbox.start();
    // The application keeps writing, one message a second: a poison message is told from an
    // outage by failing beside messages that go through (alone, it could be either).
    AtomicInteger trickle = new AtomicInteger();
    Instant[] lastWrite = {clock.now()};
    driveLoopUntil(
        () -> {
          if (!clock.now().isBefore(lastWrite[0].plusSeconds(1))) {
            lastWrite[0] = clock.now();
            outbox.publish(
                TXN,
                Message.builder()
                    .namespace("test")
                    .payload("t-" + trickle.getAndIncrement())
                    .build());
          }
          return storage.size() == 0;
        },
        clock.now().plusSeconds(600));

    assertThat(broker.messages())
        .filteredOn(m -> m.payloadAsString().startsWith("m-"))
        .extracting(Message::payloadAsString)
        .as("every message of the backlog delivered")
        .containsExactlyInAnyOrderElementsOf(
            messages("m-", 5000).stream().map(Message::payloadAsString).toList());
    assertThat(broker.distinctCount()).isEqualTo(5000 + trickle.get());
    assertThat(outbox.deadLetters().list(10))
        .as("only the poison message is dead-lettered")
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.message().payloadAsString()).isEqualTo("poison");
              assertThat(d.attempts()).isEqualTo(5);
            });
    System.out.printf(
        "60 s outage over 5000 entries + 1 poison, maxAttempts 5: %d publish calls during the"
            + " outage, %d delivered, %d dead-lettered, drained at +%d s%n",
        callsDuringOutage.get(),
        broker.distinctCount(),
        outbox.deadLetters().list(10).size(),
        Duration.between(FakeClock.DEFAULT_START, clock.now()).toSeconds());
    assertThat(callsDuringOutage.get())
        .as("an outage is probed with backoff, not swept at the busy interval")
        .isLessThan(60);
  }

  /** Lets the started loop run: advances the clock to each wait it registers, until done. */
  private void driveLoopUntil(Supplier<Boolean> done, Instant limit) {
    while (!done.get()) {
      assertThat(clock.now())
          .as(
              "the outbox finished before the time limit; left %d entries: %s",
              storage.size(), storage.entries().stream().limit(3).toList())
          .isBefore(limit);
      advanceToTheLoopsNextWait();
    }
  }

  /**
   * Waits until the loop registered its next wait (an interval or a backoff, never more than an
   * hour here) and advances the clock to it. The publish timeout's wait (a day in these tests) only
   * exists while a publish call runs: then the loop's own wait is not registered yet.
   */
  private void advanceToTheLoopsNextWait() {
    long end = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < end) {
      Instant next = clock.nextDeadline();
      if (next != null && next.isBefore(clock.now().plus(Duration.ofHours(1)))) {
        clock.advance(Duration.between(clock.now(), next));
        return;
      }
      Thread.onSpinWait();
    }
    throw new AssertionError("the loop registered no wait within " + WAIT);
  }

  @Test
  void aBatchTheBrokerTakesNothingOfIsGivenBackUnchargedAndTheLoopBacksOff() {
    RecordingPublisher broker = new RecordingPublisher().failAll(new IllegalStateException("down"));
    List<Duration> backoffs = new CopyOnWriteArrayList<>();
    Outbox<Object> outbox =
        build(
            outbox("p1", broker)
                .maxAttempts(2)
                .errorBackoff(Duration.ofMillis(100), Duration.ofSeconds(30))
                .listener(
                    new OutboxListener() {
                      @Override
                      public void onPumpError(Throwable error, Duration backoff) {
                        backoffs.add(backoff);
                      }
                    }));
    outbox.publish(TXN, messages("m-", 30));

    PumpResult first = outbox.pumpOutbox();

    assertThat(first.released()).isEqualTo(30);
    assertThat(first.failed()).isZero();
    assertThat(storage.entries()).extracting(ClaimedEntry::attempts).containsOnly(0);
    assertThat(outbox.deadLetters().list(10)).isEmpty();
    assertThat(storage.lastErrors().values()).allMatch(e -> e.contains("down"));

    outbox.start();
    for (int i = 0; i < 3; i++) {
      advanceToTheLoopsNextWait();
    }
    long end = System.nanoTime() + WAIT.toNanos();
    while (backoffs.size() < 4 && System.nanoTime() < end) {
      Thread.onSpinWait();
    }
    assertThat(backoffs).hasSizeGreaterThanOrEqualTo(4);
    assertThat(backoffs.get(1)).as("the backoff doubles").isGreaterThan(backoffs.get(0));
    assertThat(outbox.health().consecutiveFailures()).isGreaterThanOrEqualTo(3);
    assertThat(outbox.deadLetters().list(10)).as("still nothing dead-lettered").isEmpty();
  }

  // ---------------------------------------------------------------- 3: fail closed

  @Test
  void aPublisherThatNamesEntriesOutsideTheBatchCausesNoDeletion() {
    Publisher confused =
        batch -> {
          throw PublishException.builder()
              .add(987654321L, new PublishException.Failure(new RuntimeException("?"), false))
              .build();
        };
    Outbox<Object> outbox = build(outbox("p1", confused));
    outbox.publish(TXN, messages("m-", 5));

    PumpResult result = outbox.pumpOutbox();

    assertThat(result.published()).as("nothing counts as sent").isZero();
    assertThat(storage.size()).as("nothing deleted").isEqualTo(5);
    assertThat(storage.entries()).extracting(ClaimedEntry::attempts).containsOnly(0);
  }

  // ---------------------------------------------------------------- 4: fencing by claim token

  @Test
  void twoOutboxesSharingAProcessorIdCannotChangeEachOthersClaims() throws Exception {
    CountDownLatch staleInFlight = new CountDownLatch(1);
    CountDownLatch releaseStale = new CountDownLatch(1);
    RecordingPublisher slowThenFailing =
        new RecordingPublisher()
            .beforePublish(
                batch -> {
                  if (staleInFlight.getCount() > 0) {
                    staleInFlight.countDown();
                    awaitLatch(releaseStale);
                    throw new IllegalStateException("stale processor's late failure");
                  }
                });
    Outbox<Object> stale =
        build(outbox("pod-0", slowThenFailing).claimDuration(Duration.ofSeconds(30)));
    stale.publish(TXN, messages("m-", 3));
    Thread staleThread = new Thread(stale::pumpOutbox);
    staleThread.start();
    assertThat(staleInFlight.await(10, TimeUnit.SECONDS)).isTrue();

    // The stale pass's lease expires (its renewals are stopped by the long wait below), and a
    // second outbox with the same processor id claims the same entries.
    UUID live = UUID.randomUUID();
    Instant takeover = clock.now().plusSeconds(60);
    List<ClaimedEntry> taken =
        storage.claim(
            new ClaimRequest("pod-0", live, takeover, takeover.plus(Duration.ofMinutes(5)), 10));
    assertThat(taken).hasSize(3);
    releaseStale.countDown();
    staleThread.join(10_000);

    assertThat(
            storage.claim(
                new ClaimRequest(
                    "someone-else",
                    UUID.randomUUID(),
                    takeover.plusSeconds(1),
                    takeover.plusSeconds(60),
                    10)))
        .as("the stale outbox's late release did not free the live claim")
        .isEmpty();
    assertThat(storage.delete(live, taken.stream().map(ClaimedEntry::id).toList())).isEqualTo(3);
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      if (!latch.await(20, TimeUnit.SECONDS)) {
        throw new AssertionError("latch not released in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  // ---------------------------------------------------------------- 5: the writer's clock

  @Test
  void aWriterWhoseClockIsTwoMinutesFastDoesNotDelayItsMessages() {
    FakeClock fastWriterClock = new FakeClock(clock.now().plus(Duration.ofMinutes(2)));
    RecordingPublisher broker = new RecordingPublisher();
    Outbox<Object> writer =
        build(Outbox.builder(storage, broker).processorId("writer").clock(fastWriterClock));
    Outbox<Object> processor = build(outbox("processor", broker));

    writer.publish(TXN, messages("m-", 3));

    assertThat(processor.pumpOutbox().published()).isEqualTo(3);
  }

  @Test
  void aProcessorWhoseClockSteppedBackAnHourStillPublishesFreshMessages() {
    FakeClock behind = new FakeClock(clock.now().minus(Duration.ofHours(1)));
    RecordingPublisher broker = new RecordingPublisher();
    Outbox<Object> writer = build(outbox("writer", broker));
    Outbox<Object> processor =
        build(Outbox.builder(storage, broker).processorId("behind").clock(behind));

    writer.publish(TXN, messages("m-", 3));

    assertThat(processor.pumpOutbox().published()).isEqualTo(3);
  }

  // ---------------------------------------------------------------- 6: Errors

  @Test
  void errorsThrownByThePublisherAreSurvivedAndReported() {
    List<Throwable> errors =
        List.of(
            new StackOverflowError("deep"),
            new Error("plain error"),
            new AssertionError("assert"),
            new NoClassDefFoundError("missing"));
    AtomicInteger calls = new AtomicInteger();
    RecordingPublisher broker =
        new RecordingPublisher()
            .beforePublish(
                batch -> {
                  int n = calls.getAndIncrement();
                  if (n < errors.size()) {
                    throw sneaky(errors.get(n));
                  }
                });
    List<Throwable> reported = new CopyOnWriteArrayList<>();
    Outbox<Object> outbox =
        build(
            outbox("p1", broker)
                .listener(
                    new OutboxListener() {
                      @Override
                      public void onReleased(List<ClaimedEntry> entries, Throwable cause) {
                        reported.add(cause);
                      }
                    }));
    outbox.publish(TXN, messages("m-", 1));

    outbox.start();
    driveLoopUntil(() -> storage.size() == 0, clock.now().plusSeconds(600));

    assertThat(outbox.isRunning()).isTrue();
    assertThat(reported).containsExactlyElementsOf(errors);
    assertThat(broker.distinctCount()).isEqualTo(1);
    OutboxHealth health = outbox.health();
    assertThat(health.isHealthy()).isTrue();
    assertThat(health.consecutiveFailures()).isZero();
    assertThat(health.lastSuccessfulPass()).isNotNull();
  }

  @Test
  void anOutOfMemoryErrorStopsTheLoopLoudlyAndLosesNothing() throws Exception {
    AtomicReference<Throwable> stoppedBy = new AtomicReference<>();
    Publisher oom =
        batch -> {
          throw new OutOfMemoryError("simulated");
        };
    Outbox<Object> outbox =
        build(
            outbox("p1", oom)
                .listener(
                    new OutboxListener() {
                      @Override
                      public void onLoopStopped(Throwable cause) {
                        stoppedBy.set(cause);
                      }
                    }));
    outbox.publish(TXN, messages("m-", 4));

    outbox.start();
    long end = System.nanoTime() + WAIT.toNanos();
    while (outbox.isRunning() && System.nanoTime() < end) {
      Thread.onSpinWait();
    }

    assertThat(outbox.isRunning()).isFalse();
    assertThat(stoppedBy.get()).isInstanceOf(OutOfMemoryError.class);
    OutboxHealth health = outbox.health();
    assertThat(health.isHealthy()).isFalse();
    assertThat(health.stoppedBy()).isInstanceOf(OutOfMemoryError.class);
    assertThat(storage.size()).as("nothing lost").isEqualTo(4);
    assertThat(storage.entries()).extracting(ClaimedEntry::attempts).containsOnly(0);
    assertThat(
            storage.claim(
                new ClaimRequest(
                    "other", UUID.randomUUID(), clock.now(), clock.now().plusSeconds(30), 10)))
        .as("given back at once for other processors")
        .hasSize(4);
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> RuntimeException sneaky(Throwable t) throws E {
    throw (E) t;
  }

  // ---------------------------------------------------------------- 7: lifecycle

  @Test
  void aPublisherStuckForeverReleasesItsBatchAfterThePublishTimeout() throws Exception {
    CountDownLatch stuck = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    Publisher forever =
        batch -> {
          stuck.countDown();
          try {
            new CountDownLatch(1).await(); // forever, unless interrupted
          } catch (InterruptedException e) {
            interrupted.countDown();
          }
        };
    Outbox<Object> outbox =
        build(
            outbox("p1", forever)
                .claimDuration(Duration.ofSeconds(30))
                .publishTimeout(Duration.ofSeconds(90)));
    outbox.publish(TXN, messages("m-", 3));
    Thread pump = new Thread(outbox::pumpOutbox);
    pump.start();
    assertThat(stuck.await(10, TimeUnit.SECONDS)).isTrue();

    // Renewals keep the lease for the first 90 s...
    for (int i = 0; i < 8; i++) {
      clock.awaitWaiters(2, WAIT); // the renewal's wait and the publish timeout's
      clock.advance(Duration.ofSeconds(10));
    }
    assertThat(claimable(clock.now())).as("renewed while within publishTimeout").isEmpty();
    // ...then the call is abandoned and the batch given back.
    clock.awaitWaiters(2, WAIT);
    clock.advance(Duration.ofSeconds(15));
    pump.join(10_000);

    assertThat(pump.isAlive()).isFalse();
    assertThat(interrupted.await(10, TimeUnit.SECONDS))
        .as("the stuck call was interrupted")
        .isTrue();
    assertThat(storage.entries()).extracting(ClaimedEntry::attempts).containsOnly(0);
    assertThat(claimable(clock.now())).as("released for others at once").hasSize(3);
  }

  private List<ClaimedEntry> claimable(Instant now) {
    return storage.claim(new ClaimRequest("probe", UUID.randomUUID(), now, now.plusMillis(1), 100));
  }

  @Test
  void closeLeavesNoThreadOfOursAliveEvenWithTheDefaultClock() throws Exception {
    String id = "leak-check-" + UUID.randomUUID().toString().substring(0, 8);
    CountDownLatch stuck = new CountDownLatch(1);
    Publisher forever =
        batch -> {
          stuck.countDown();
          try {
            new CountDownLatch(1).await(); // stuck forever, until interrupted
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        };
    Outbox<Object> outbox =
        Outbox.builder(storage, forever)
            .processorId(id)
            .clock(Clock.system())
            .shutdownTimeout(Duration.ofMillis(200))
            .build();
    outbox.publish(TXN, messages("m-", 2));
    outbox.start();
    assertThat(stuck.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(threadsNamedAfter(id)).as("threads while running").isNotEmpty();

    outbox.close();

    long end = System.nanoTime() + WAIT.toNanos();
    while (!threadsNamedAfter(id).isEmpty() && System.nanoTime() < end) {
      Thread.sleep(10); // real threads ending: the one place a real wait is the subject
    }
    assertThat(threadsNamedAfter(id)).as("threads after close").isEmpty();
  }

  private static Set<String> threadsNamedAfter(String id) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.contains(id))
        .collect(Collectors.toSet());
  }

  // ---------------------------------------------------------------- 8 and 9: refused at write time

  @Test
  void aMessageThePublisherCanNeverDeliverIsRefusedAtPublishAndNothingIsWritten() {
    Publisher limited =
        new Publisher() {
          @Override
          public void publish(List<ClaimedEntry> entries) {}

          @Override
          public void checkDeliverable(Message message) {
            if (message.headers().size() > 10) {
              throw new IllegalArgumentException(
                  "it has " + message.headers().size() + " headers; the broker carries at most 10");
            }
          }
        };
    Outbox<Object> outbox = build(outbox("p1", limited));
    Message.Builder eleven = Message.builder().namespace("test").payload("x");
    for (int i = 0; i < 11; i++) {
      eleven.header("h" + i, "v");
    }

    assertThatThrownBy(
            () -> outbox.publish(TXN, List.of(messages("ok-", 1).get(0), eleven.build())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("message 1")
        .hasMessageContaining("at most 10");
    assertThat(storage.size()).isZero();
  }

  @Test
  void aFailureDescriptionWithNulsAndLoneSurrogatesIsRecordedSanitized() {
    RecordingPublisher broker =
        new RecordingPublisher()
            .failWhen(e -> e.message().payloadAsString().equals("m-0"))
            .beforePublish(batch -> {});
    Publisher nasty =
        batch -> {
          PublishException.Builder b = PublishException.builder();
          for (ClaimedEntry e : batch) {
            if (e.message().payloadAsString().equals("m-0")) {
              b.retryable(e, new IllegalStateException("bad\u0000text \uD800 end"));
            }
          }
          broker.publish(
              batch.stream().filter(e -> !e.message().payloadAsString().equals("m-0")).toList());
          b.throwIfAny();
        };
    Outbox<Object> outbox = build(outbox("p1", nasty));
    outbox.publish(TXN, messages("m-", 2));

    assertThat(outbox.pumpOutbox().failed()).isEqualTo(1);

    assertThat(storage.lastErrors().values())
        .singleElement()
        .isEqualTo("java.lang.IllegalStateException: bad\uFFFDtext \uFFFD end");
  }
}
