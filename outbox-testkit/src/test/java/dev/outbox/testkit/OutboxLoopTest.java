package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.OutboxException;
import dev.outbox.OutboxListener;
import dev.outbox.ProcessorStorage;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The background loop, driven by a FakeClock: no test here sleeps. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class OutboxLoopTest {

  private static final Object TXN = new Object();
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final FakeClock clock = new FakeClock();
  private final InMemoryStorage<Object> storage = new InMemoryStorage<>();
  private final RecordingPublisher publisher = new RecordingPublisher();
  private final List<Outbox<Object>> outboxes = new CopyOnWriteArrayList<>();

  private Outbox.Builder<Object> outbox(String id, ProcessorStorage<Object> storage) {
    return Outbox.builder(storage, publisher)
        .processorId(id)
        .clock(clock)
        .batchSize(10)
        .processInterval(Duration.ofMinutes(1))
        .random(new SplittableRandom(7));
  }

  private Outbox<Object> started(Outbox.Builder<Object> builder) {
    Outbox<Object> o = builder.build();
    outboxes.add(o);
    return o.start();
  }

  @AfterEach
  void closeAll() {
    outboxes.forEach(Outbox::close);
  }

  private static List<Message> messages(int n) {
    return IntStream.range(0, n)
        .mapToObj(i -> Message.builder().namespace("orders").payload("m-" + i).build())
        .toList();
  }

  @Test
  void aWakeUpTriggersAPumpBeforeTheInterval() {
    Outbox<Object> outbox = started(outbox("p1", storage));
    clock.awaitWaiters(1, WAIT); // the first pass ran and the loop waits for its interval
    Instant before = clock.now();

    outbox.publish(TXN, messages(3));
    outbox.wakeProcessor();

    publisher.awaitDistinct(3, WAIT);
    assertThat(clock.now())
        .as("no time passed: the wake-up, not the interval, did it")
        .isEqualTo(before);
  }

  @Test
  void withoutAWakeUpTheIntervalTriggersThePump() {
    Outbox<Object> outbox = started(outbox("p1", storage));
    clock.awaitWaiters(1, WAIT);
    outbox.publish(TXN, messages(3));

    clock.advance(Duration.ofSeconds(59));
    assertThat(publisher.count()).as("not before the interval").isZero();
    clock.advance(Duration.ofSeconds(1));

    publisher.awaitDistinct(3, WAIT);
  }

  @Test
  void aBusyLoopPollsAtTheBusyIntervalUntilThreeEmptyPassesInARow() {
    Outbox<Object> outbox = started(outbox("p1", storage).busyInterval(Duration.ofMillis(20)));
    clock.awaitWaiters(1, WAIT);
    assertThat(clock.nextDeadline())
        .as("idle: the full interval")
        .isEqualTo(clock.now().plusSeconds(60));
    outbox.publish(TXN, messages(3));
    clock.advance(Duration.ofSeconds(60));
    publisher.awaitDistinct(3, WAIT);

    awaitNextDeadline(clock.now().plusMillis(20)); // busy: the batch had entries
    storage.publish(TXN, clock.now(), messages(2));
    clock.advance(Duration.ofMillis(20));
    publisher.awaitDistinct(5, WAIT);
    for (int empty = 1; empty <= 3; empty++) {
      awaitNextDeadline(clock.now().plusMillis(20)); // still busy after fewer than 3 empty passes
      clock.advance(Duration.ofMillis(20));
    }

    awaitNextDeadline(clock.now().plusSeconds(60)); // idle again
  }

  /** Waits (bounded) until the earliest pending wait is due at {@code deadline}. */
  private void awaitNextDeadline(Instant deadline) {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!deadline.equals(clock.nextDeadline()) && System.nanoTime() < end) {
      Thread.onSpinWait(); // the loop registers its wait once its pass is over
    }
    assertThat(clock.nextDeadline()).isEqualTo(deadline);
  }

  @Test
  void theLoopDrainsABacklogPresentAtStart() {
    storage.publish(TXN, clock.now(), messages(35));

    started(outbox("p1", storage));

    publisher.awaitDistinct(35, WAIT);
    assertThat(publisher.batches()).isEqualTo(4);
  }

  @Test
  void manyWakeUpsDuringAPassCoalesceIntoOneMorePass() throws Exception {
    CountDownLatch inFlight = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    holdFirstBatch(inFlight, release);
    Outbox<Object> outbox = started(outbox("p1", storage));
    clock.awaitWaiters(1, WAIT);
    outbox.publish(TXN, messages(1));
    outbox.wakeProcessor();
    await(inFlight);

    outbox.publish(TXN, messages(2));
    for (int i = 0; i < 100; i++) {
      outbox.wakeProcessor();
    }
    release.countDown();

    publisher.awaitDistinct(3, WAIT);
    clock.awaitWaiters(1, WAIT);
    assertThat(publisher.batches()).as("one pass for the first, one for all the rest").isEqualTo(2);
  }

  @Test
  void closeDuringAPumpFinishesTheBatchInHandAndLosesNothing() throws Exception {
    CountDownLatch inFlight = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    holdFirstBatch(inFlight, release);
    storage.publish(TXN, clock.now(), messages(25));
    Outbox<Object> outbox = started(outbox("p1", storage));
    await(inFlight);

    CompletableFuture<Void> closing = CompletableFuture.runAsync(outbox::close);
    long end = System.nanoTime() + WAIT.toNanos();
    while (!outbox.isClosed() && System.nanoTime() < end) {
      Thread.onSpinWait(); // until close() has begun
    }
    assertThat(closing).as("close waits for the batch in hand").isNotDone();
    release.countDown();
    closing.get(10, TimeUnit.SECONDS);

    assertThat(outbox.isRunning()).isFalse();
    assertThat(publisher.count()).as("the batch in hand was finished").isEqualTo(10);
    assertThat(storage.size()).as("the rest stayed in the outbox").isEqualTo(15);
    Outbox<Object> successor = outbox("p2", storage).build();
    assertThat(successor.pumpOutbox().published()).as("claimable at once").isEqualTo(15);
    assertThat(publisher.distinctCount()).isEqualTo(25);
  }

  @Test
  void storageFailuresMakeTheLoopBackOffAndItNeverDies() {
    FlakyStorage flaky = new FlakyStorage(storage, 3);
    List<Duration> backoffs = new CopyOnWriteArrayList<>();
    Outbox<Object> outbox =
        started(
            outbox("p1", flaky)
                .errorBackoff(Duration.ofSeconds(1), Duration.ofSeconds(3))
                .listener(
                    new OutboxListener() {
                      @Override
                      public void onPumpError(Throwable error, Duration backoff) {
                        backoffs.add(backoff);
                      }
                    }));
    outbox.publish(TXN, messages(2));

    for (int failure = 1; failure <= 3; failure++) {
      clock.awaitWaiters(1, WAIT);
      outbox.wakeProcessor(); // ignored while backing off
      clock.set(clock.nextDeadline());
    }

    publisher.awaitDistinct(2, WAIT);
    assertThat(outbox.isRunning()).isTrue();
    assertThat(backoffs).hasSize(3);
    // 1 s, 2 s, then capped at 3 s; each shortened by at most 20 % jitter.
    assertThat(backoffs.get(0)).isBetween(Duration.ofMillis(800), Duration.ofSeconds(1));
    assertThat(backoffs.get(1)).isBetween(Duration.ofMillis(1600), Duration.ofSeconds(2));
    assertThat(backoffs.get(2)).isBetween(Duration.ofMillis(2400), Duration.ofSeconds(3));
  }

  @Test
  void anErrorThrownByThePublisherDoesNotKillTheLoop() {
    AtomicInteger calls = new AtomicInteger();
    publisher.beforePublish(
        batch -> {
          if (calls.getAndIncrement() == 0) {
            throw new AssertionError("a bug in someone's publisher");
          }
        });
    Outbox<Object> outbox = started(outbox("p1", storage).claimDuration(Duration.ofSeconds(5)));
    clock.awaitWaiters(1, WAIT);
    outbox.publish(TXN, messages(1));
    outbox.wakeProcessor();

    // The failed pass backs off; the entry's claim expires; a later pass publishes it.
    while (publisher.distinctCount() == 0) {
      clock.awaitWaiters(1, WAIT);
      clock.advance(Duration.ofSeconds(1));
      Thread.onSpinWait();
    }
    assertThat(outbox.isRunning()).isTrue();
    assertThat(calls.get()).isGreaterThanOrEqualTo(2);
  }

  /**
   * Blocks the first published batch: counts down {@code inFlight}, then waits for {@code release}.
   */
  private void holdFirstBatch(CountDownLatch inFlight, CountDownLatch release) {
    publisher.beforePublish(
        batch -> {
          if (inFlight.getCount() > 0) {
            inFlight.countDown();
            await(release);
          }
        });
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new AssertionError("latch not released in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** A storage whose claims fail the first {@code failures} times. */
  private static final class FlakyStorage extends ForwardingStorage<Object> {
    private final AtomicInteger failuresLeft;

    FlakyStorage(InMemoryStorage<Object> delegate, int failures) {
      super(delegate);
      this.failuresLeft = new AtomicInteger(failures);
    }

    @Override
    public List<ClaimedEntry> claim(ClaimRequest request) {
      if (failuresLeft.getAndDecrement() > 0) {
        throw new OutboxException("database unreachable (simulated)");
      }
      return super.claim(request);
    }
  }
}
