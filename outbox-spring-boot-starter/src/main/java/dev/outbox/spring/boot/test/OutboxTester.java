package dev.outbox.spring.boot.test;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.PumpResult;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.RecordingPublisher;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Drives the outbox synchronously in a Spring test: {@link #pump()} publishes everything claimable
 * on the calling thread and returns what the {@link RecordingPublisher} received, on a {@link
 * FakeClock} the test moves. Made by {@link EnableOutboxTester}, which also keeps the background
 * processor off so that nothing is published behind the test's back.
 *
 * <pre>{@code
 * @SpringBootTest
 * @EnableOutboxTester
 * class OrderServiceTest {
 *   @Autowired OrderService orders;
 *   @Autowired OutboxTester outbox;
 *
 *   @Test
 *   void placingAnOrderPublishesOrderPlaced() {
 *     orders.place(new Order("o-1"));
 *     assertThat(outbox.pump()).extracting(Message::namespace).containsExactly("orders");
 *   }
 * }
 * }</pre>
 */
public final class OutboxTester {

  /** The most passes one {@link #pump()} makes before it concludes the outbox never drains. */
  static final int MAX_PASSES = 10_000;

  private final Outbox<?> outbox;
  private final RecordingPublisher publisher;
  private final FakeClock clock;

  /**
   * Creates a tester.
   *
   * @param outbox the outbox, built over {@code publisher} and {@code clock}
   * @param publisher the publisher that records what the outbox publishes
   * @param clock the outbox's clock
   */
  public OutboxTester(Outbox<?> outbox, RecordingPublisher publisher, FakeClock clock) {
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.publisher = Objects.requireNonNull(publisher, "publisher");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Publishes everything claimable now, on the calling thread, pass after pass until a pass
   * publishes nothing more; entries waiting for a retry stay until {@link #advance} moves the clock
   * past their retry time.
   *
   * @return the messages published by this call, oldest first
   * @throws IllegalStateException when the outbox has not drained after 10,000 passes
   */
  public List<Message> pump() {
    int before = publisher.count();
    for (int i = 0; i < MAX_PASSES; i++) {
      PumpResult r = outbox.pumpOutbox();
      if (r.claimed() == 0 || r.published() == 0) {
        List<Message> all = publisher.messages();
        return List.copyOf(all.subList(before, all.size()));
      }
    }
    throw new IllegalStateException(
        "the outbox still had entries to publish after " + MAX_PASSES + " passes");
  }

  /** Moves the clock forward, then {@link #pump()}s: publishes entries whose retry came due. */
  public List<Message> advance(Duration by) {
    clock.advance(by);
    return pump();
  }

  /** Every message published since the start or the last {@link #clear()}, oldest first. */
  public List<Message> published() {
    return publisher.messages();
  }

  /** Forgets what was published and makes the publisher succeed again. */
  public void clear() {
    publisher.clear();
    publisher.succeed();
  }

  /** The recording publisher, to make it fail ({@code failAll}, {@code failWhen}, ...). */
  public RecordingPublisher publisher() {
    return publisher;
  }

  /** The outbox's fake clock. */
  public FakeClock clock() {
    return clock;
  }

  /** The outbox. */
  public Outbox<?> outbox() {
    return outbox;
  }
}
