package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.Message;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The builders' checks. No broker is needed: a producer does not connect until it sends, and the
 * checks happen before one is built.
 */
class KafkaPublisherSettingsTest {

  private static final String NOWHERE = "127.0.0.1:1";

  private static Map<String, Object> config(Object... keyValues) {
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", NOWHERE);
    for (int i = 0; i < keyValues.length; i += 2) {
      c.put((String) keyValues[i], keyValues[i + 1]);
    }
    return c;
  }

  @Test
  void theSafeSettingsAreStatedExplicitlyWhenAbsent() {
    ProducerSettings s = ProducerSettings.forNewProducer(config());
    assertThat(s.config).containsEntry("enable.idempotence", "true").containsEntry("acks", "all");
    assertThat(s.maxRequestSize).isEqualTo(1_048_576);
    assertThat(s.deliveryTimeoutMs).isEqualTo(120_000);
  }

  @Test
  void theCallersOwnSafeSettingsAreKeptAsGiven() {
    ProducerSettings s =
        ProducerSettings.forNewProducer(
            config(
                "acks", "-1",
                "enable.idempotence", true,
                "max.in.flight.requests.per.connection", 1,
                "compression.type", "zstd",
                "max.request.size", "2000000"));
    assertThat(s.config).containsEntry("acks", "-1").containsEntry("compression.type", "zstd");
    assertThat(s.maxRequestSize).isEqualTo(2_000_000);
  }

  @Test
  void everyUnsafeSettingIsRefusedByName() {
    assertThatThrownBy(
            () ->
                KafkaPublisher.builder(
                        config(
                            "acks", "1",
                            "enable.idempotence", "false",
                            "max.in.flight.requests.per.connection", 6,
                            "retries", 0,
                            "transactional.id", "tx-1",
                            "value.serializer",
                                "org.apache.kafka.common.serialization.StringSerializer"))
                    .topic("t")
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("acks=1: must be all")
        .hasMessageContaining("enable.idempotence=false: must be true")
        .hasMessageContaining("max.in.flight.requests.per.connection=6: must be 1 to 5")
        .hasMessageContaining("retries=0: must be > 0")
        .hasMessageContaining("transactional.id is set")
        .hasMessageContaining(
            "value.serializer=org.apache.kafka.common.serialization.StringSerializer");
  }

  @Test
  void acksZeroIsRefusedToo() {
    assertThatThrownBy(() -> ProducerSettings.forNewProducer(config("acks", "0")))
        .hasMessageContaining("acks=0: must be all");
  }

  @Test
  void aValueKafkaCannotParseIsNamed() {
    assertThatThrownBy(() -> ProducerSettings.forNewProducer(config("delivery.timeout.ms", "soon")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("delivery.timeout.ms");
  }

  @Test
  void bootstrapServersIsRequiredForANewProducer() {
    assertThatThrownBy(
            () -> KafkaPublisher.builder(new HashMap<String, Object>()).topic("t").build())
        .hasMessageContaining("bootstrap.servers is required");
  }

  @Test
  void propertiesWorkLikeAMap() {
    Properties p = new Properties();
    p.setProperty("bootstrap.servers", NOWHERE);
    p.setProperty("acks", "1");
    assertThatThrownBy(() -> KafkaPublisher.builder(p).topic("t").build())
        .hasMessageContaining("acks=1");
    p.setProperty("acks", "all");
    p.setProperty("max.request.size", "5000");
    try (KafkaPublisher publisher = KafkaPublisher.builder(p).topic("t").build()) {
      assertThat(publisher.maxRecordBytes()).isEqualTo(5_000);
    }
  }

  @Test
  void everyAcceptedConfigurationKeepsPartitionOrderSoThePublisherKeepsKeyOrder() {
    assertThat(ProducerSettings.forNewProducer(config()).keepsPartitionOrder).isTrue();
    assertThat(
            ProducerSettings.forNewProducer(
                    config("max.in.flight.requests.per.connection", 5, "retries", 3))
                .keepsPartitionOrder)
        .isTrue();
    assertThat(ProducerSettings.forExistingProducer(Map.of()).keepsPartitionOrder)
        .as("Kafka's defaults: idempotence on")
        .isTrue();
    try (KafkaPublisher publisher = KafkaPublisher.builder(config()).topic("t").build()) {
      assertThat(publisher.keepsOrder()).isTrue();
    }
    try (KafkaPublisher publisher =
        KafkaPublisher.builder(config())
            .router(m -> KafkaRoute.partition("t", m.payloadSize() % 2))
            .keepsOrder(false)
            .build()) {
      assertThat(publisher.keepsOrder()).as("declared: the router spreads keys").isFalse();
    }
  }

  @Test
  void aCallersProducerIsCheckedByTheConfigItWasBuiltWithAndNeverFilledIn() {
    Map<String, Object> builtWith = config("linger.ms", 20, "max.request.size", 3000);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(builtWith, new ByteArraySerializer(), new ByteArraySerializer())) {
      try (KafkaPublisher publisher =
          KafkaPublisher.builder(producer, builtWith).topic("t").build()) {
        assertThat(publisher.maxRecordBytes()).isEqualTo(3000);
        assertThatThrownBy(
                () ->
                    publisher.checkDeliverable(
                        Message.builder().namespace("n").payload(new byte[3000]).build()))
            .hasMessageContaining("max.request.size is 3000");
      }
      // The publisher did not close the caller's producer: it still answers.
      assertThat(producer.metrics()).isNotEmpty();

      Map<String, Object> unsafe = config("acks", "1");
      assertThatThrownBy(() -> KafkaPublisher.builder(producer, unsafe).topic("t").build())
          .hasMessageContaining("the producer's config")
          .hasMessageContaining("acks=1");
    }
  }

  @Test
  void theBufferIsTheLimitWhenSmallerThanTheRequestSize() {
    try (KafkaPublisher publisher =
        KafkaPublisher.builder(config("buffer.memory", 4096)).topic("t").build()) {
      assertThat(publisher.maxRecordBytes()).isEqualTo(4096);
      assertThatThrownBy(
              () ->
                  publisher.checkDeliverable(
                      Message.builder().namespace("n").payload(new byte[5000]).build()))
          .hasMessageContaining("buffer.memory is 4096");
    }
  }

  @Test
  void routingMustBeSetOnceAndNameLegalTopics() {
    assertThatThrownBy(() -> KafkaPublisher.builder(config()).build())
        .hasMessageContaining("no routing: set topic, routes or router");
    assertThatThrownBy(
            () ->
                KafkaPublisher.builder(config())
                    .topic("a")
                    .router(m -> KafkaRoute.topic("b"))
                    .build())
        .hasMessageContaining("set router alone");
    assertThatThrownBy(
            () -> KafkaPublisher.builder(config()).routes(Map.of("orders", "bad topic")).build())
        .hasMessageContaining("routes['orders']: topic name 'bad topic' has an illegal character");
    assertThatThrownBy(() -> KafkaPublisher.builder(config()).topic("x".repeat(250)).build())
        .hasMessageContaining("Kafka allows 249");
    assertThatThrownBy(() -> KafkaRoute.partition("t", -1)).hasMessageContaining("must be >= 0");
  }

  @Test
  void kafkasRetriableErrorsAreRetryableAndMessageFaultsPermanent() {
    assertThat(KafkaPublisher.isPermanent(new TimeoutException("t"))).isFalse();
    assertThat(KafkaPublisher.isPermanent(new NotEnoughReplicasException("r"))).isFalse();
    assertThat(KafkaPublisher.isPermanent(new NotLeaderOrFollowerException("l"))).isFalse();
    assertThat(KafkaPublisher.isPermanent(new IllegalStateException("unknown"))).isFalse();
    assertThat(KafkaPublisher.isPermanent(new RecordTooLargeException("big"))).isTrue();
    assertThat(KafkaPublisher.isPermanent(new InvalidTopicException("bad"))).isTrue();
    assertThat(KafkaPublisher.isPermanent(new TopicAuthorizationException("no"))).isTrue();
    assertThat(KafkaPublisher.isPermanent(new SerializationException("ser"))).isTrue();
  }
}
