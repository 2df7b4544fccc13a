package dev.outbox.kafka;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.PumpResult;
import dev.outbox.testkit.InMemoryStorage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * How fast the outbox drains into Kafka, beside a plain {@link KafkaProducer} sending the same
 * records as fast as it can, in the same run, on the same in-JVM KRaft broker. Not a test: run it
 * by hand (see the module README) and read the figures.
 *
 * <ul>
 *   <li>{@code plain}: one thread sends every record (same key, payload and headers as the
 *       publisher writes) without waiting, then {@code flush()}es: the producer's own ceiling.
 *   <li>{@code drain}: an {@link Outbox} over the testkit's {@link InMemoryStorage}, loaded with
 *       the same messages beforehand, calls {@code pumpOutbox()} until a pass claims nothing; each
 *       batch is sent by {@link KafkaPublisher} and awaited before it is deleted.
 * </ul>
 *
 * <p>Both use one producer configuration (idempotent, {@code acks=all}, the producer's defaults
 * otherwise); each measurement writes to a fresh 6-partition topic. Arguments (defaults): {@code
 * messages=50000 payload=200 batch=1000 runs=15 keys=1000 processors=1}; with more than one
 * processor, that many {@code Outbox} instances pump the one storage on their own threads.
 */
public final class KafkaDrainBenchmark {

  private KafkaDrainBenchmark() {}

  /** Runs the benchmark and prints one line per measurement and a summary. */
  public static void main(String[] args) throws Exception {
    Map<String, Integer> opts =
        new java.util.HashMap<>(
            Map.of(
                "messages",
                50_000,
                "payload",
                200,
                "batch",
                1000,
                "runs",
                15,
                "keys",
                1000,
                "processors",
                1));
    for (String a : args) {
      String[] kv = a.split("=", 2);
      if (kv.length != 2 || !opts.containsKey(kv[0])) {
        throw new IllegalArgumentException("unknown argument " + a + "; known: " + opts.keySet());
      }
      opts.put(kv[0], Integer.parseInt(kv[1]));
    }
    int messages = opts.get("messages");
    int runs = opts.get("runs");
    byte[] payload = "x".repeat(opts.get("payload")).getBytes(StandardCharsets.UTF_8);
    try (TestBroker broker = TestBroker.start(Map.of())) {
      Map<String, Object> config = new java.util.HashMap<>();
      config.put("bootstrap.servers", broker.bootstrapServers());
      System.out.printf(
          "kafka %s, %d messages of %d bytes, %d keys, outbox batchSize %d, %d processor(s),"
              + " %d runs, %d cores%n",
          org.apache.kafka.common.utils.AppInfoParser.getVersion(),
          messages,
          payload.length,
          opts.get("keys"),
          opts.get("batch"),
          opts.get("processors"),
          runs,
          Runtime.getRuntime().availableProcessors());
      // Warm-up at a tenth of the size, not reported.
      plain(broker, config, messages / 10, payload, opts.get("keys"));
      int batch = opts.get("batch");
      int processors = opts.get("processors");
      drain(broker, config, messages / 10, payload, opts.get("keys"), batch, processors);
      double[] plain = new double[runs];
      double[] drain = new double[runs];
      double[] ratio = new double[runs];
      double[] plainCpu = new double[runs];
      double[] drainCpu = new double[runs];
      for (int r = 0; r < runs; r++) {
        // Alternate the order so that drift in the machine's load hits both alike.
        for (int half = 0; half < 2; half++) {
          long cpu0 = processCpuNanos();
          if ((r + half) % 2 == 0) {
            plain[r] = plain(broker, config, messages, payload, opts.get("keys"));
            plainCpu[r] = (processCpuNanos() - cpu0) / 1e3 / messages;
          } else {
            drain[r] =
                drain(broker, config, messages, payload, opts.get("keys"), batch, processors);
            drainCpu[r] = (processCpuNanos() - cpu0) / 1e3 / messages;
          }
        }
        ratio[r] = drain[r] / plain[r];
        System.out.printf(
            "run %2d: plain %,9.0f msgs/s %5.1f us cpu/msg | drain %,9.0f msgs/s %5.1f us cpu/msg"
                + " | drain/plain %.2f%n",
            r + 1, plain[r], plainCpu[r], drain[r], drainCpu[r], ratio[r]);
      }
      System.out.printf(
          "median: plain %,.0f msgs/s (%.1f us cpu/msg), drain %,.0f msgs/s (%.1f us cpu/msg);"
              + " median of the runs' drain/plain %.2f (target >= 0.70); load average %.1f%n",
          median(plain),
          median(plainCpu),
          median(drain),
          median(drainCpu),
          median(ratio),
          java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }

  private static Message message(int i, byte[] payload, int keys) {
    return Message.builder()
        .namespace("bench")
        .key("key-" + (i % keys))
        .payload(payload)
        .header("content-type", "text/plain")
        .build();
  }

  /** A plain producer: send everything, flush, check every acknowledgement. */
  static double plain(
      TestBroker broker, Map<String, Object> config, int n, byte[] payload, int keys)
      throws Exception {
    String topic = broker.createTopic("plain", 6, Map.of());
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Message m = message(i, payload, keys);
      RecordHeaders headers = new RecordHeaders();
      m.headers().forEach((k, v) -> headers.add(k, v.getBytes(StandardCharsets.UTF_8)));
      headers.add(
          KafkaPublisher.MESSAGE_ID_HEADER,
          UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII));
      headers.add(KafkaPublisher.NAMESPACE_HEADER, "bench".getBytes(StandardCharsets.UTF_8));
      records.add(new ProducerRecord<>(topic, null, null, m.key(), m.payload(), headers));
    }
    Map<String, Object> c = new java.util.HashMap<>(ProducerSettings.forNewProducer(config).config);
    c.remove("key.serializer");
    c.remove("value.serializer");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.partitionsFor(topic); // metadata outside the timing, as the publisher has it warm
      List<Future<RecordMetadata>> acks = new ArrayList<>(n);
      long start = System.nanoTime();
      for (ProducerRecord<byte[], byte[]> r : records) {
        acks.add(producer.send(r));
      }
      producer.flush();
      long nanos = System.nanoTime() - start;
      for (Future<RecordMetadata> f : acks) {
        f.get();
      }
      return n / (nanos / 1e9);
    }
  }

  /** The outbox: load the storage (untimed), then pump until it is empty. */
  static double drain(
      TestBroker broker,
      Map<String, Object> config,
      int n,
      byte[] payload,
      int keys,
      int batch,
      int processors)
      throws Exception {
    String topic = broker.createTopic("drain", 6, Map.of());
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    try (KafkaPublisher publisher = KafkaPublisher.builder(config).topic(topic).build();
        Outbox<Object> outbox = Outbox.builder(storage, publisher).batchSize(batch).build()) {
      Object txn = new Object();
      List<Message> chunk = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        chunk.add(message(i, payload, keys));
        if (chunk.size() == 1000) {
          outbox.publish(txn, chunk);
          chunk.clear();
        }
      }
      if (!chunk.isEmpty()) {
        outbox.publish(txn, chunk);
      }
      // Metadata outside the timing, as for the plain producer: one extra record.
      publisher.publish(
          List.of(
              dev.outbox.ClaimedEntry.builder()
                  .id(-1)
                  .messageId(UUID.randomUUID())
                  .message(message(0, payload, keys))
                  .createdAt(java.time.Instant.now())
                  .build()));
      List<Outbox<Object>> others = new ArrayList<>();
      for (int p = 1; p < processors; p++) {
        others.add(Outbox.builder(storage, publisher).batchSize(batch).build());
      }
      java.util.concurrent.atomic.AtomicLong publishedTotal =
          new java.util.concurrent.atomic.AtomicLong();
      List<Thread> threads = new ArrayList<>();
      List<Outbox<Object>> all = new ArrayList<>(others);
      all.add(0, outbox);
      long start = System.nanoTime();
      for (Outbox<Object> o : all) {
        Thread t =
            new Thread(
                () -> {
                  while (true) {
                    PumpResult r = o.pumpOutbox();
                    if (r.claimed() == 0) {
                      break;
                    }
                    publishedTotal.addAndGet(r.published());
                  }
                });
        t.start();
        threads.add(t);
      }
      for (Thread t : threads) {
        t.join();
      }
      long published = publishedTotal.get();
      long nanos = System.nanoTime() - start;
      others.forEach(Outbox::close);
      if (published != n || storage.size() != 0) {
        throw new IllegalStateException(
            "drain published " + published + " of " + n + "; " + storage.size() + " left");
      }
      return n / (nanos / 1e9);
    }
  }

  /** CPU time of this whole JVM (broker included), all threads, JIT and GC. */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
