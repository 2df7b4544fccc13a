package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.Publisher;
import dev.outbox.testkit.OrderedPublisherContract;
import dev.outbox.testkit.ReceivedMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;

/**
 * The testkit's publisher contract against the in-JVM KRaft broker, with every hook at its strict
 * default but the order one: every test gets a fresh 3-partition topic for the contract namespace;
 * the oversized entry is one byte over what {@code checkDeliverable} accepts under a {@code
 * max.request.size} of 100,000 (the producer refuses it), the unroutable one is in a namespace the
 * router has no topic for (permanent). The publisher keeps order, so the ordered tests run; an
 * entry made to fail retryably is routed to a topic that does not exist.
 */
class KafkaPublisherContractTest extends OrderedPublisherContract {

  private static final String FAIL = "x-route-to-missing-topic";

  private TestBroker broker;
  private String topic;
  private KafkaPublisher publisher;

  @Override
  protected Publisher publisher() {
    broker = TestBroker.shared();
    topic = broker.createTopic("contract", 3, Map.of());
    Map<String, Object> config = broker.producerConfig();
    config.put("max.request.size", 100_000);
    // A failing entry's wait for the missing topic's metadata: short, to keep the suite quick.
    config.put("max.block.ms", 1_500);
    String missing = "contract-missing-" + topic;
    publisher =
        KafkaPublisher.builder(config)
            .router(
                m -> {
                  if (!m.namespace().equals(namespace())) {
                    return null;
                  }
                  return KafkaRoute.topic(m.headers().containsKey(FAIL) ? missing : topic);
                })
            .build();
    assertThat(publisher.keepsOrder()).isTrue();
    return publisher;
  }

  /**
   * A message the publisher sends to a topic that does not exist (the broker does not create
   * topics): the producer waits {@code max.block.ms} for its metadata and fails the send with a
   * retriable TimeoutException, before anything is sent, as when a topic is missing or its metadata
   * unavailable.
   */
  @Override
  protected Optional<Message> retryablyFailing(Message message) {
    return Optional.of(message.toBuilder().header(FAIL, "yes").build());
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
