package dev.outbox.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real single-node Kafka (broker and controller in one KRaft process) inside the test JVM, on
 * free 127.0.0.1 ports, with a temporary log directory. It can be stopped and started again on the
 * same ports and data, which the outage tests use. Topic auto-creation is off.
 *
 * <p>Published in this module's test jar, for other modules' tests (the Spring Boot starter's).
 */
public final class TestBroker implements AutoCloseable {

  private static TestBroker shared;

  private final Path logDir;
  private final int brokerPort;
  private final int controllerPort;
  private final String clusterId = Uuid.randomUuid().toString();
  private final Map<String, String> overrides;
  private KafkaRaftServer server;
  private Admin admin;

  private TestBroker(Map<String, String> overrides) {
    this.overrides = overrides;
    try {
      this.logDir = Files.createTempDirectory("outbox-kafka-test");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.brokerPort = freePort();
    this.controllerPort = freePort();
  }

  /** One broker for the whole test JVM, started on first use and stopped at JVM exit. */
  public static synchronized TestBroker shared() {
    if (shared == null) {
      shared = start(Map.of());
      TestBroker b = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(b::close, "test-broker-stop"));
    }
    return shared;
  }

  /** A broker of its own (for tests that stop it), with these broker settings on top. */
  static TestBroker start(Map<String, String> overrides) {
    TestBroker b = new TestBroker(overrides);
    b.format();
    b.startServer();
    return b;
  }

  /** The broker's {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return "127.0.0.1:" + brokerPort;
  }

  private Properties brokerProperties() {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", logDir.toString());
    p.put("auto.create.topics.enable", "false");
    p.put("num.partitions", "1");
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("log.segment.delete.delay.ms", "1000");
    p.put("controlled.shutdown.enable", "false");
    p.putAll(overrides);
    return p;
  }

  private void format() {
    KafkaConfig config = KafkaConfig.fromProps(brokerProperties(), false);
    try {
      new Formatter()
          .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
          .setNodeId(1)
          .setClusterId(clusterId)
          .setDirectories(List.of(logDir.toString()))
          .setMetadataLogDirectory(logDir.toString())
          .setControllerListenerName("CONTROLLER")
          .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("formatting the test broker's log dir failed", e);
    }
    if (config.nodeId() != 1) {
      throw new IllegalStateException("unexpected node id " + config.nodeId());
    }
  }

  private synchronized void startServer() {
    server = new KafkaRaftServer(KafkaConfig.fromProps(brokerProperties(), false), Time.SYSTEM);
    server.startup();
    awaitReady();
  }

  private void awaitReady() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        admin().describeCluster().nodes().get(5, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        last = e;
        sleep(100);
      }
    }
    throw new IllegalStateException("test broker did not become ready in 60 s", last);
  }

  /** Stops the broker, keeping its data for {@link #restart()}. */
  synchronized void stop() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
  }

  /** Starts the broker again on the same ports and data. */
  synchronized void restart() {
    stop();
    startServer();
  }

  synchronized Admin admin() {
    if (admin == null) {
      Map<String, Object> c = new HashMap<>();
      c.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
      c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
      c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
      admin = Admin.create(c);
    }
    return admin;
  }

  /** Creates a topic with a unique name built from the prefix, and returns the name. */
  public String createTopic(String prefix, int partitions, Map<String, String> configs) {
    String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    try {
      admin()
          .createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs)))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("creating topic " + name + " failed", e);
    }
    awaitLeaders(name, partitions);
    return name;
  }

  /**
   * Waits until the broker serves every partition of a new topic. The controller answers
   * CreateTopics, and the metadata shows a leader, before the broker has opened the partition's
   * log; an idempotent producer whose first batch meets that window gets a retriable error for it
   * while its next in-flight batches are appended, and the retried first batch then fails with
   * OutOfOrderSequence until the delivery timeout. Listing offsets succeeds only once the leader
   * really serves the partition.
   */
  private void awaitLeaders(String topic, int partitions) {
    Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> spec = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      spec.put(new TopicPartition(topic, p), org.apache.kafka.clients.admin.OffsetSpec.latest());
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        admin().listOffsets(spec).all().get(5, TimeUnit.SECONDS);
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
        last = e;
        sleep(50);
      }
    }
    throw new IllegalStateException("topic " + topic + " has no serving leader after 30 s", last);
  }

  public String createTopic(String prefix) {
    return createTopic(prefix, 1, Map.of());
  }

  /** Producer settings for the tests: this broker, short timeouts so failures come quickly. */
  public Map<String, Object> producerConfig() {
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", bootstrapServers());
    c.put("max.block.ms", 5_000);
    c.put("request.timeout.ms", 3_000);
    c.put("delivery.timeout.ms", 8_000);
    c.put("linger.ms", 5);
    return c;
  }

  /**
   * Every record of the topic from its beginning, read with a fresh consumer (no group, {@code
   * read_committed}) until at least {@code atLeast} arrived and the consumer reached the end of
   * every partition, or the timeout passed.
   */
  public List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int atLeast, Duration timeout) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .sorted(Comparator.comparingInt(TopicPartition::partition))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(10));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(100)).forEach(got::add);
        if (got.size() >= atLeast && caughtUp(consumer, partitions, end)) {
          // Refresh the end offsets once to see anything written meanwhile.
          end = consumer.endOffsets(partitions, Duration.ofSeconds(10));
          if (caughtUp(consumer, partitions, end)) {
            break;
          }
        }
      }
    }
    return got;
  }

  private static boolean caughtUp(
      KafkaConsumer<byte[], byte[]> consumer,
      List<TopicPartition> partitions,
      Map<TopicPartition, Long> end) {
    for (TopicPartition tp : partitions) {
      if (consumer.position(tp) < end.get(tp)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public synchronized void close() {
    if (admin != null) {
      admin.close(Duration.ofSeconds(2));
      admin = null;
    }
    stop();
    try (Stream<Path> files = Files.walk(logDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir; the OS cleans it
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
