package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** RecordingPublisher passes the publisher contract, and fails exactly as told. */
class RecordingPublisherTest extends OrderedPublisherContract {

  /** The size limit this test gives the publisher, as a broker would. */
  static final int LIMIT = 256 * 1024;

  private final RecordingPublisher publisher = routedAndLimited(new RecordingPublisher());

  /** The header that makes {@link #routedAndLimited} publishers fail an entry retryably. */
  static final String FAIL_HEADER = "x-fail-retryably";

  /**
   * Gives a RecordingPublisher a size limit, routes every namespace but "-unrouted" ones, fails
   * entries with {@link #FAIL_HEADER} retryably, and keeps order.
   */
  static RecordingPublisher routedAndLimited(RecordingPublisher p) {
    return p.maxMessageBytes(LIMIT)
        .failPermanentlyWhen(e -> e.message().namespace().endsWith("-unrouted"))
        .failRetryablyWhen(e -> e.message().headers().containsKey(FAIL_HEADER))
        .keepsOrder(true);
  }

  /** A message the {@link #routedAndLimited} publishers fail retryably. */
  static Optional<Message> failing(Message m) {
    return Optional.of(m.toBuilder().header(FAIL_HEADER, "yes").build());
  }

  @Override
  protected Optional<Message> retryablyFailing(Message message) {
    return failing(message);
  }

  @Override
  protected Publisher publisher() {
    return publisher;
  }

  @Override
  protected List<ReceivedMessage> received(String namespace, int atLeast, Duration timeout) {
    return received(publisher, namespace, atLeast, timeout);
  }

  /** What the RecordingPublisher accepted in the namespace, waiting for at least atLeast. */
  static List<ReceivedMessage> received(
      RecordingPublisher publisher, String namespace, int atLeast, Duration timeout) {
    try {
      publisher.awaitDistinct(atLeast, timeout);
    } catch (AssertionError fewer) {
      // the contract reports what is missing
    }
    return publisher.published().stream()
        .filter(e -> e.message().namespace().equals(namespace))
        .map(
            e ->
                new ReceivedMessage(
                    e.messageId(),
                    namespace,
                    e.message().key(),
                    e.message().payload(),
                    e.message().headers()))
        .toList();
  }

  @Test
  void failEveryNthCountsAcrossBatches() {
    RecordingPublisher p = new RecordingPublisher().failEveryNth(3);
    List<ClaimedEntry> first = List.of(entry(msg("a")), entry(msg("b")));
    List<ClaimedEntry> second =
        List.of(entry(msg("c")), entry(msg("d")), entry(msg("e")), entry(msg("f")));

    p.publish(first);
    PublishException e = catchThrowableOfType(PublishException.class, () -> p.publish(second));

    assertThat(e.failures().keySet()).containsExactly(second.get(0).id(), second.get(3).id());
    assertThat(p.messages())
        .extracting(Message::payloadAsString)
        .containsExactly("a", "b", "d", "e");
  }

  @Test
  void keepingOrderAFailedEntryHoldsBackItsKeysLaterEntriesOnly() {
    RecordingPublisher p = new RecordingPublisher().keepsOrder(true);
    p.failWhen(e -> e.message().payloadAsString().equals("a2"));
    ClaimedEntry a1 = entry(keyed("n", "a", "a1"));
    ClaimedEntry a2 = entry(keyed("n", "a", "a2"));
    ClaimedEntry b1 = entry(keyed("n", "b", "b1"));
    ClaimedEntry a3 = entry(keyed("n", "a", "a3"));
    ClaimedEntry otherNamespace = entry(keyed("m", "a", "m-a"));
    ClaimedEntry keyless = entry(msg("none"));

    PublishException e =
        catchThrowableOfType(
            PublishException.class,
            () -> p.publish(List.of(a1, a2, b1, a3, otherNamespace, keyless)));

    assertThat(p.keepsOrder()).isTrue();
    assertThat(e.failures().keySet()).containsExactly(a2.id(), a3.id());
    assertThat(e.failureOf(a3.id()).permanent()).isFalse();
    assertThat(e.failureOf(a3.id()).cause()).hasMessageContaining("held back");
    assertThat(p.messages())
        .extracting(Message::payloadAsString)
        .containsExactly("a1", "b1", "m-a", "none");
  }

  @Test
  void withoutKeepsOrderNothingIsHeldBack() {
    RecordingPublisher p = new RecordingPublisher();
    p.failWhen(e -> e.message().payloadAsString().equals("a1"));

    PublishException e =
        catchThrowableOfType(
            PublishException.class,
            () -> p.publish(List.of(entry(keyed("n", "a", "a1")), entry(keyed("n", "a", "a2")))));

    assertThat(p.keepsOrder()).isFalse();
    assertThat(e.failures()).hasSize(1);
    assertThat(p.messages()).extracting(Message::payloadAsString).containsExactly("a2");
  }

  private static Message keyed(String namespace, String key, String payload) {
    return Message.builder().namespace(namespace).key(key).payload(payload).build();
  }

  private static Message msg(String payload) {
    return Message.builder().namespace("n").payload(payload).build();
  }
}
