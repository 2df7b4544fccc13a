package dev.outbox.example;

import dev.outbox.kafka.KafkaRecords;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The downstream service on Kafka: one thread reads every partition of the topic from its end as of
 * {@link #start()} (assigned partitions, no consumer group, so no rebalance to wait for), and hands
 * every record to {@link OrderConsumer#handle} with its {@code outbox.message-id}.
 */
final class TopicConsumer extends OrderConsumer {

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String topic;
  private final Thread thread;
  private volatile boolean stopped;

  TopicConsumer(String bootstrapServers, String topic, String runId) {
    super(runId);
    this.topic = topic;
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    this.consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.thread = new Thread(this::loop, "consumer-kafka");
    this.thread.setDaemon(true);
  }

  @Override
  TopicConsumer start() {
    List<TopicPartition> partitions =
        consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
            .map(p -> new TopicPartition(p.topic(), p.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToEnd(partitions);
    // Resolve the positions now, before anything of this run is published; earlier runs' records
    // on a shared topic are skipped this way (and by the run id check besides).
    partitions.forEach(tp -> consumer.position(tp, Duration.ofSeconds(10)));
    thread.start();
    return this;
  }

  private void loop() {
    try {
      while (!stopped) {
        var records = consumer.poll(Duration.ofMillis(200));
        long now = System.nanoTime();
        for (ConsumerRecord<byte[], byte[]> r : records) {
          UUID messageId;
          try {
            messageId = KafkaRecords.messageId(r);
          } catch (IllegalArgumentException e) {
            System.err.println("consumer: skipped a record not written by the outbox: " + e);
            continue;
          }
          handle(messageId, r.value(), now);
        }
      }
    } catch (WakeupException e) {
      if (!stopped) {
        throw e;
      }
    } finally {
      consumer.close();
    }
  }

  @Override
  public void close() throws InterruptedException {
    stopped = true;
    if (thread.isAlive()) {
      consumer.wakeup();
      thread.join(5000);
    } else {
      consumer.close();
    }
  }
}
