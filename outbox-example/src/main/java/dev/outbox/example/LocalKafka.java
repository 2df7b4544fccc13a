package dev.outbox.example;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * The Kafka side of the example: the given bootstrap servers, checked at once, or a real
 * single-node KRaft broker (broker and controller in one process) started in this JVM on free
 * loopback ports with a temporary log directory when none are given. Topic auto-creation is off on
 * the in-process broker: topics are created, and waited for, before anything is published to them.
 */
final class LocalKafka implements AutoCloseable {

  /** The given Kafka cannot be reached; {@code main} exits 2 on it. */
  static final class UnreachableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    UnreachableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final KafkaRaftServer server; // null when bootstrap servers were given
  private final Path logDir; // null with it
  private final String bootstrapServers;
  private final Admin admin;

  /**
   * Connects to the given bootstrap servers, or starts a broker when null.
   *
   * @throws UnreachableException when given servers do not answer within 10 s
   */
  LocalKafka(String bootstrap) {
    this(bootstrap, 10);
  }

  /** As {@link #LocalKafka(String)}, waiting at most {@code reachSeconds} for given servers. */
  LocalKafka(String bootstrap, int reachSeconds) {
    if (bootstrap == null) {
      int brokerPort = freePort();
      int controllerPort = freePort();
      try {
        logDir = Files.createTempDirectory("outbox-example-kafka");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Properties props = brokerProperties(brokerPort, controllerPort, logDir);
      format(props, logDir);
      server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
      server.startup();
      bootstrapServers = "127.0.0.1:" + brokerPort;
    } else {
      server = null;
      logDir = null;
      bootstrapServers = bootstrap;
    }
    Map<String, Object> c = new HashMap<>();
    c.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
    try {
      admin = Admin.create(c);
    } catch (RuntimeException e) { // an unparsable or unresolvable address
      closeServer();
      throw new UnreachableException(
          "--kafka-bootstrap is " + bootstrapServers + ": " + rootMessage(e), e);
    }
    awaitReady(server == null ? reachSeconds : 60);
  }

  private static Properties brokerProperties(int brokerPort, int controllerPort, Path logDir) {
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
    p.put("controlled.shutdown.enable", "false");
    return p;
  }

  private static void format(Properties props, Path logDir) {
    KafkaConfig.fromProps(props, false); // refuses bad settings before formatting
    try {
      new Formatter()
          .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
          .setNodeId(1)
          .setClusterId(Uuid.randomUuid().toString())
          .setDirectories(List.of(logDir.toString()))
          .setMetadataLogDirectory(logDir.toString())
          .setControllerListenerName("CONTROLLER")
          .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("formatting the Kafka log dir " + logDir + " failed", e);
    }
  }

  private void awaitReady(int seconds) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Exception last = null;
    do {
      try {
        admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        throw new IllegalStateException("interrupted waiting for Kafka", e);
      } catch (ExecutionException | TimeoutException e) {
        last = e;
        sleep(100);
      }
    } while (System.nanoTime() < deadline);
    close();
    String reason =
        last instanceof TimeoutException ? "no answer to describeCluster" : rootMessage(last);
    throw new UnreachableException(
        server == null
            ? "--kafka-bootstrap is "
                + bootstrapServers
                + ": Kafka cannot be reached there within "
                + seconds
                + " s ("
                + reason
                + ")"
            : "the in-process Kafka broker did not become ready in " + seconds + " s",
        last);
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() != null ? root.getMessage() : root.toString();
  }

  boolean inProcess() {
    return server != null;
  }

  String bootstrapServers() {
    return bootstrapServers;
  }

  /**
   * Producer settings for the publisher: these servers, and timeouts short enough that a publish
   * call returns well within the outbox's publishTimeout (2 min by default).
   */
  Map<String, Object> producerConfig() {
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", bootstrapServers);
    c.put("max.block.ms", 10_000);
    c.put("request.timeout.ms", 10_000);
    c.put("delivery.timeout.ms", 30_000);
    c.put("linger.ms", 5);
    return c;
  }

  /**
   * Creates the topic if it does not exist yet, and waits until every partition of it answers
   * {@code ListOffsets}: right after CreateTopics a leader can be named before it serves the
   * partition, and an idempotent producer's first batch meeting that window can land out of order
   * (see the Kafka publisher's README).
   *
   * @return the topic's partition count
   */
  int topic(String name, int partitions) {
    try {
      admin
          .createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException("creating Kafka topic " + name + " failed", e.getCause());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted creating Kafka topic " + name, e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("creating Kafka topic " + name + " took over 30 s", e);
    }
    int actual;
    try {
      actual =
          admin
              .describeTopics(List.of(name))
              .allTopicNames()
              .get(10, TimeUnit.SECONDS)
              .get(name)
              .partitions()
              .size();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted describing Kafka topic " + name, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("describing Kafka topic " + name + " failed", e);
    }
    awaitLeaders(name, actual);
    return actual;
  }

  private void awaitLeaders(String topic, int partitions) {
    Map<TopicPartition, OffsetSpec> spec = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      spec.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        admin.listOffsets(spec).all().get(5, TimeUnit.SECONDS);
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for Kafka topic " + topic, e);
      } catch (ExecutionException | TimeoutException e) {
        last = e;
        sleep(50);
      }
    }
    throw new IllegalStateException(
        "Kafka topic " + topic + " has no serving leader after 30 s", last);
  }

  @Override
  public void close() {
    if (admin != null) {
      admin.close(java.time.Duration.ofSeconds(2));
    }
    closeServer();
  }

  private void closeServer() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      try (Stream<Path> files = Files.walk(logDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException ignored) {
        // a temp dir; the OS cleans it
      }
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
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
