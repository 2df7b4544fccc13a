package dev.outbox.kafka;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.Publisher;
import dev.outbox.testkit.PublisherContract;
import dev.outbox.testkit.ReceivedMessage;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;

/**
 * The testkit's publisher contract against the in-JVM KRaft broker: every test gets a fresh topic
 * for the contract namespace whose {@code max.message.bytes} is 20,000. Unpublishable entries
 * alternate between a namespace with no route and a payload over the topic's limit (which the
 * broker, not the producer, refuses).
 */
class KafkaPublisherContractTest extends PublisherContract {

  private static final int TOPIC_LIMIT = 20_000;

  private TestBroker broker;
  private String topic;
  private KafkaPublisher publisher;

  @Override
  protected Publisher publisher() {
    broker = TestBroker.shared();
    topic =
        broker.createTopic(
            "contract", 3, Map.of("max.message.bytes", Integer.toString(TOPIC_LIMIT)));
    publisher =
        KafkaPublisher.builder(broker.producerConfig()).routes(Map.of(namespace(), topic)).build();
    return publisher;
  }

  @AfterEach
  void closePublisher() {
    if (publisher != null) {
      publisher.close();
    }
  }

  @Override
  protected List<ReceivedMessage> received(String namespace, int atLeast, Duration timeout) {
    return broker.readAll(topic, atLeast, timeout).stream().map(this::toReceived).toList();
  }

  private ReceivedMessage toReceived(ConsumerRecord<byte[], byte[]> r) {
    return new ReceivedMessage(
        KafkaRecords.messageId(r),
        KafkaRecords.namespace(r),
        r.key(),
        r.value(),
        KafkaRecords.userHeaders(r));
  }

  @Override
  protected Optional<ClaimedEntry> unpublishableEntry(long id) {
    Message message =
        id % 2 == 0
            ? Message.builder().namespace("unrouted").payload("nowhere to go").build()
            : Message.builder().namespace(namespace()).payload(new byte[TOPIC_LIMIT * 2]).build();
    return Optional.of(
        ClaimedEntry.builder()
            .id(id)
            .messageId(UUID.randomUUID())
            .message(message)
            .createdAt(Instant.EPOCH)
            .build());
  }
}
