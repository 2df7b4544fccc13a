package dev.outbox.kafka;

import dev.outbox.Publisher;
import dev.outbox.testkit.PublisherContract;
import dev.outbox.testkit.ReceivedMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;

/**
 * The testkit's publisher contract against the in-JVM KRaft broker, with every hook at its strict
 * default: every test gets a fresh 3-partition topic for the contract namespace; the oversized
 * entry is one byte over what {@code checkDeliverable} accepts under a {@code max.request.size} of
 * 100,000 (the producer refuses it), the unroutable one is in a namespace the routes lack
 * (permanent).
 */
class KafkaPublisherContractTest extends PublisherContract {

  private TestBroker broker;
  private String topic;
  private KafkaPublisher publisher;

  @Override
  protected Publisher publisher() {
    broker = TestBroker.shared();
    topic = broker.createTopic("contract", 3, Map.of());
    Map<String, Object> config = broker.producerConfig();
    config.put("max.request.size", 100_000);
    publisher = KafkaPublisher.builder(config).routes(Map.of(namespace(), topic)).build();
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
}
