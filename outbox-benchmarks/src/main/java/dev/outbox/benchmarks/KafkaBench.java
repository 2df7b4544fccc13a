package dev.outbox.benchmarks;

import dev.outbox.ClaimedEntry;
import dev.outbox.Outbox;
import dev.outbox.ProcessorStorage;
import dev.outbox.Publisher;
import dev.outbox.PumpResult;
import dev.outbox.kafka.KafkaPublisher;
import dev.outbox.kafka.TestBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jdbi.v3.core.Handle;

/**
 * The outbox end to end into a real Kafka broker (the publisher module's {@link TestBroker}, a
 * single KRaft node in this JVM), beside a plain {@link KafkaProducer} sending the same number of
 * records of the same size with the same settings, and beside the same drain with a publisher that
 * only counts (the database-bound limit). Every measurement writes to a fresh topic of {@value
 * #PARTITIONS} partitions.
 */
final class KafkaBench implements AutoCloseable {

  static final int PARTITIONS = 6;

  /** What one Kafka drain measured: the rate, and where the time per batch went. */
  record Result(DrainResult drain, double publishMillis) {}

  private final OurStorage ours;
  private final SqlDatabase db;
  private final Options o;
  private final byte[] payload;
  private final TestBroker broker;

  /**
   * The producer configuration both sides use: exactly what {@code KafkaPublisher.builder(Map)}
   * makes of a map holding only {@code bootstrap.servers} (idempotence on, {@code acks=all},
   * byte-array serializers, Kafka's defaults for everything else: {@code linger.ms} 5, {@code
   * batch.size} 16 KiB, 5 requests in flight).
   */
  private final Map<String, Object> config;

  KafkaBench(OurStorage ours, SqlDatabase db, Options o, byte[] payload) {
    this.ours = ours;
    this.db = db;
    this.o = o;
    this.payload = payload;
    this.broker = TestBroker.shared();
    Map<String, Object> c = new LinkedHashMap<>();
    c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    this.config = Map.copyOf(c);
  }

  /** The Kafka version of the client (and the in-JVM broker). */
  static String version() {
    return org.apache.kafka.common.utils.AppInfoParser.getVersion();
  }

  private KafkaProducer<byte[], byte[]> producer(String topic) {
    KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(new HashMap<>(config));
    p.partitionsFor(topic); // metadata outside the timing, for both sides alike
    return p;
  }

  /**
   * A plain producer: {@code n} records shaped like the publisher's (key {@code k<i>}, the payload,
   * a message-id and a namespace header), prepared beforehand, sent from one thread as fast as it
   * can, then flushed; every acknowledgement is checked. Msgs/s from the first send to the flush's
   * end.
   */
  double plain(int n) throws Exception {
    String topic = broker.createTopic("bench-plain", PARTITIONS, Map.of());
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(n);
    byte[] namespace = SqlDatabase.NAMESPACE.getBytes(StandardCharsets.UTF_8);
    for (int i = 1; i <= n; i++) {
      RecordHeaders headers = new RecordHeaders();
      headers.add(
          KafkaPublisher.MESSAGE_ID_HEADER,
          UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII));
      headers.add(KafkaPublisher.NAMESPACE_HEADER, namespace);
      records.add(new ProducerRecord<>(topic, null, null, SqlDatabase.key(i), payload, headers));
    }
    try (KafkaProducer<byte[], byte[]> producer = producer(topic)) {
      List<Future<RecordMetadata>> acks = new ArrayList<>(n);
      long start = System.nanoTime();
      for (ProducerRecord<byte[], byte[]> r : records) {
        acks.add(producer.send(r));
      }
      producer.flush();
      long took = System.nanoTime() - start;
      for (Future<RecordMetadata> f : acks) {
        f.get(); // throws if any record was not acknowledged
      }
      checkTopic(topic, n, "the plain producer");
      return Bench.rate(n, took);
    }
  }

  /**
   * Loads {@code backlog} messages and drains them with {@code processors} outboxes pumping on
   * their own threads until a pass claims nothing, into {@link KafkaPublisher} on a fresh topic
   * ({@code kafka} true), or into a publisher that only counts.
   */
  Result drain(int processors, int backlog, boolean kafka) throws Exception {
    db.reset();
    db.loadBacklog(backlog, payload);
    Timings timings = new Timings();
    ProcessorStorage<Handle> storage = new TimedStorage<>(ours.storage(false), timings);
    String topic = kafka ? broker.createTopic("bench-drain", PARTITIONS, Map.of()) : null;
    KafkaProducer<byte[], byte[]> producer = kafka ? producer(topic) : null;
    LongAdder published = new LongAdder();
    LongAdder publishNanos = new LongAdder();
    LongAdder calls = new LongAdder();
    Publisher inner =
        kafka ? KafkaPublisher.builder(producer, config).topic(topic).build() : entries -> {};
    Publisher timed =
        new Publisher() {
          @Override
          public void publish(List<ClaimedEntry> entries) throws dev.outbox.PublishException {
            long start = System.nanoTime();
            try {
              inner.publish(entries);
              published.add(entries.size());
            } finally {
              publishNanos.add(System.nanoTime() - start);
              calls.increment();
            }
          }

          @Override
          public boolean keepsOrder() {
            return inner.keepsOrder();
          }

          @Override
          public void checkDeliverable(dev.outbox.Message message) {
            inner.checkDeliverable(message);
          }
        };
    List<Outbox<Handle>> outboxes = new ArrayList<>();
    for (int i = 0; i < processors; i++) {
      outboxes.add(
          Outbox.builder(storage, timed)
              .processorId("bench-kafka-" + i)
              .batchSize(o.batch())
              .build());
    }
    try {
      long[] r =
          Parallel.run(
              processors,
              i ->
                  () -> {
                    long total = 0;
                    PumpResult pass;
                    do {
                      pass = outboxes.get(i).pumpOutbox();
                      total += pass.published();
                      if (pass.failed() + pass.deadLettered() + pass.released() > 0) {
                        throw new IllegalStateException("a Kafka drain batch failed: " + pass);
                      }
                    } while (pass.claimed() > 0);
                    return total;
                  });
      Checks.drained(db, backlog, r[1], kafka ? "the Kafka drain" : "the counting drain");
      if (published.sum() != backlog) {
        throw new IllegalStateException(
            "the publisher acknowledged " + published.sum() + " messages of " + backlog);
      }
      if (kafka) {
        checkTopic(topic, backlog, "the Kafka drain");
      }
      double publishMillis = calls.sum() == 0 ? Double.NaN : publishNanos.sum() / 1e6 / calls.sum();
      return new Result(DrainResult.of(backlog, r, timings), publishMillis);
    } finally {
      outboxes.forEach(Outbox::close);
      if (producer != null) {
        producer.close(Duration.ofSeconds(10));
      }
    }
  }

  /** Fails unless the topic holds exactly {@code n} records (the sum of its end offsets). */
  private void checkTopic(String topic, long n, String what) {
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", broker.bootstrapServers());
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int p = 0; p < PARTITIONS; p++) {
        partitions.add(new TopicPartition(topic, p));
      }
      long records =
          consumer.endOffsets(partitions, Duration.ofSeconds(10)).values().stream()
              .mapToLong(Long::longValue)
              .sum();
      if (records != n) {
        throw new IllegalStateException(
            what + " left " + records + " records in " + topic + " for " + n + " messages");
      }
    }
  }

  @Override
  public void close() {
    // The shared broker stops with the JVM (its shutdown hook).
  }
}
