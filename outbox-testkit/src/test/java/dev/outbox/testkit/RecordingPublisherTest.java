package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RecordingPublisher passes the publisher contract, and fails exactly as told. */
class RecordingPublisherTest extends PublisherContract {

  /** The size limit this test gives the publisher, as a broker would. */
  static final int LIMIT = 256 * 1024;

  private final RecordingPublisher publisher = routedAndLimited(new RecordingPublisher());

  /** Gives a RecordingPublisher a size limit and routes every namespace but "-unrouted" ones. */
  static RecordingPublisher routedAndLimited(RecordingPublisher p) {
    return p.maxMessageBytes(LIMIT)
        .failPermanentlyWhen(e -> e.message().namespace().endsWith("-unrouted"));
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

  private static Message msg(String payload) {
    return Message.builder().namespace("n").payload(payload).build();
  }
}
