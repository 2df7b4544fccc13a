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
class RecordingPublisherTest extends PublisherContract {

  private final RecordingPublisher publisher =
      new RecordingPublisher().failWhen(e -> e.message().namespace().equals("nowhere"));

  @Override
  protected Publisher publisher() {
    return publisher;
  }

  @Override
  protected List<ReceivedMessage> received(String namespace, int atLeast, Duration timeout) {
    publisher.awaitDistinct(atLeast, timeout);
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

  @Override
  protected Optional<ClaimedEntry> unpublishableEntry(long id) {
    return Optional.of(entry(id, Message.builder().namespace("nowhere").payload("x").build()));
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
