package dev.outbox.example;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.OutboxListener;
import dev.outbox.OutboxStats;
import dev.outbox.Publisher;
import dev.outbox.kafka.KafkaPublisher;
import dev.outbox.micrometer.OutboxMetrics;
import dev.outbox.postgres.PostgresStorage;
import dev.outbox.postgres.PostgresWakeupListener;
import dev.outbox.sqs.SqsPublisher;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * An order service wired the way a production service would be: orders and their {@code
 * order-created} messages written in one PostgreSQL transaction, two Outbox processors woken by
 * LISTEN/NOTIFY publishing to SQS (or, with {@code --broker=kafka}, to Kafka), and a consumer that
 * checks every committed order arrived and no rolled-back one did. With no database given it starts
 * an embedded PostgreSQL, so that a JDK and Maven are all it needs.
 *
 * <p>Run it with {@code mvn -B -q install -DskipTests && mvn -B -q -pl outbox-example exec:java};
 * pass options with {@code -Dexec.args="--orders=5000 --rate=300"}.
 */
public final class OrderServiceExample {

  /**
   * The namespace of the poison messages: routed to an SQS queue that does not exist, and to no
   * Kafka topic at all; both fail it permanently.
   */
  static final String POISON_NAMESPACE = "order-audit";

  /** The Kafka topic of the order-created messages, created (if missing) before publishing. */
  static final String KAFKA_TOPIC = "outbox-example-orders";

  /** Partitions of the Kafka topic when the example creates it. */
  static final int KAFKA_PARTITIONS = 4;

  /** How many poison messages each run writes, to show a dead letter. */
  static final int POISON_MESSAGES = 1;

  private OrderServiceExample() {}

  public static void main(String[] args) throws Exception {
    ExampleOptions options;
    try {
      options = ExampleOptions.parse(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(64);
      return;
    }
    TestDatabase database;
    try {
      database = database(options);
    } catch (IllegalStateException e) {
      System.err.printf(
          "%s%n"
              + "Start it, for example:%n"
              + "  a local server:  pg_ctlcluster 15 main start   (or your OS's service manager)%n"
              + "  with Docker:     docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16%n"
              + "or give no --jdbc-url and no %s: the example then starts an embedded PostgreSQL.%n",
          e.getMessage(), ExampleOptions.ENV_JDBC_URL);
      System.exit(2);
      return;
    }
    ExampleReport report;
    try {
      report = run(options, database, System.out);
    } catch (LocalKafka.UnreachableException e) {
      System.err.printf(
          "%s%nStart it, or give no --kafka-bootstrap: with --broker=kafka the example then starts"
              + " a Kafka broker in-process.%n",
          e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(report.ok() ? 0 : 1);
  }

  /**
   * The database the options ask for: the given URL, checked now so that a wrong one fails here
   * with its reason and is never replaced by another; else an embedded PostgreSQL for this run.
   */
  static TestDatabase database(ExampleOptions options) {
    if (options.jdbcUrl() != null) {
      return TestDatabases.given(options.jdbcUrlSource(), "PostgreSQL", options.jdbcUrl());
    }
    return TestDatabases.embeddedPostgres();
  }

  /** Runs the example on the database the options ask for and returns its report. */
  static ExampleReport run(ExampleOptions options, PrintStream out) throws Exception {
    return run(options, database(options), out);
  }

  /** Runs the example and returns its report; what {@code main} and the test call. */
  static ExampleReport run(ExampleOptions options, TestDatabase database, PrintStream out)
      throws Exception {
    String runId = UUID.randomUUID().toString();
    List<AutoCloseable> brokerSide = new ArrayList<>(); // closed last, in reverse order
    try (HikariDataSource pool = pool(options, database.url())) {
      Jdbi jdbi = Jdbi.create(pool);
      PostgresStorage storage = PostgresStorage.builder(jdbi).tableName("example_outbox").build();
      prepareTables(jdbi, storage);

      out.printf(
          "database: %s%s%n",
          database.description(),
          database.source() == TestDatabase.Source.EMBEDDED
              ? " (no --jdbc-url or " + ExampleOptions.ENV_JDBC_URL + " given)"
              : "");
      Publisher brokerPublisher;
      Supplier<OrderConsumer> newConsumer;
      if (options.broker() == ExampleOptions.Broker.KAFKA) {
        LocalKafka kafka = new LocalKafka(options.kafkaBootstrap());
        brokerSide.add(kafka);
        int partitions = kafka.topic(KAFKA_TOPIC, KAFKA_PARTITIONS);
        out.printf(
            "Kafka: %s%s, topic %s (%d partitions)%n",
            kafka.bootstrapServers(),
            kafka.inProcess()
                ? " (KRaft broker started in-process; pass --kafka-bootstrap for a real one)"
                : "",
            KAFKA_TOPIC,
            partitions);
        // Poison: a namespace with no route. KafkaPublisher fails such an entry permanently, so
        // the outbox dead-letters it at once instead of retrying it forever; the report shows it.
        KafkaPublisher kafkaPublisher =
            KafkaPublisher.builder(kafka.producerConfig())
                .routes(Map.of(OrderProducers.NAMESPACE, KAFKA_TOPIC))
                .build();
        brokerSide.add(kafkaPublisher);
        brokerPublisher = kafkaPublisher;
        newConsumer = () -> new TopicConsumer(kafka.bootstrapServers(), KAFKA_TOPIC, runId);
      } else {
        LocalSqs sqs = new LocalSqs(options.sqsEndpoint());
        brokerSide.add(sqs);
        String queueUrl = sqs.queue("order-created");
        out.printf(
            "SQS: %s%s, queue %s%n",
            sqs.endpoint(),
            sqs.inProcess()
                ? " (ElasticMQ started in-process; pass --sqs-endpoint for a real one)"
                : "",
            queueUrl);
        if (sqs.inProcess() && options.warmUpSeconds() > 0) {
          long t0 = System.nanoTime();
          int requests = sqs.warmUp(900, Duration.ofSeconds(options.warmUpSeconds()));
          out.printf(
              "warmed up the in-process ElasticMQ with %d requests in %.1f s (not timed; the"
                  + " outbox is not warmed)%n",
              requests, (System.nanoTime() - t0) / 1e9);
        }
        // Poison: a namespace routed to a queue that does not exist. SQS refuses it for good, so
        // the outbox dead-letters it at once instead of retrying it forever; the report shows it.
        String missingQueueUrl =
            queueUrl.substring(0, queueUrl.lastIndexOf('/') + 1) + "no-such-queue-" + runId;
        brokerPublisher =
            SqsPublisher.builder(sqs.client())
                .routes(
                    Map.of(OrderProducers.NAMESPACE, queueUrl, POISON_NAMESPACE, missingQueueUrl))
                .build();
        newConsumer = () -> new QueueConsumer(sqs.client(), queueUrl, runId, 4);
      }
      out.printf(
          "running %d orders at %d/s with %d producers, %d processors (batch %d), every %s rolled back%n",
          options.orders(),
          options.rate(),
          options.producers(),
          options.processors(),
          options.batchSize(),
          options.rollbackEvery() == 0 ? "none" : options.rollbackEvery() + "th");

      TimedPublisher publisher = new TimedPublisher(brokerPublisher);
      AtomicLong published = new AtomicLong();
      Map<Long, Long> publishedAt = new ConcurrentHashMap<>();
      OutboxListener counting =
          new OutboxListener() {
            @Override
            public void onPublished(List<ClaimedEntry> entries) {
              long now = System.nanoTime(); // the publisher has just accepted these
              published.addAndGet(entries.size());
              for (ClaimedEntry e : entries) {
                Long order = OrderProducers.orderId(e.message().payloadAsString());
                if (order != null) {
                  publishedAt.putIfAbsent(order, now);
                }
              }
            }
          };
      List<Outbox<Handle>> processors = new ArrayList<>();
      // Micrometer meters (outbox-micrometer) on every processor, beside our own listener.
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      List<OutboxMetrics> metrics = new ArrayList<>();
      String meters = "";
      for (int i = 0; i < options.processors(); i++) {
        OutboxMetrics m = OutboxMetrics.builder(registry, "example-" + i).build();
        metrics.add(m);
        Outbox<Handle> o =
            Outbox.builder(storage, m.instrument(publisher))
                .processorId("example-" + i + "-" + runId.substring(0, 8))
                .batchSize(options.batchSize())
                .processInterval(Duration.ofSeconds(2)) // the fallback; NOTIFY does the waking
                .listener(counting)
                .listener(m)
                .build();
        processors.add(o);
        m.monitor(o);
      }
      PostgresWakeupListener wakeup =
          PostgresWakeupListener.builder(database.url()).channelOf(storage).build();
      long start = System.nanoTime();
      OrderProducers producers = new OrderProducers(jdbi, processors.get(0), options, runId);
      OrderConsumer consumer = newConsumer.get();
      Progress progress =
          new Progress(
              out, options.quiet(), start, producers, published, consumer, processors.get(0));
      try {
        processors.forEach(wakeup::register);
        wakeup.start();
        processors.forEach(Outbox::start);
        consumer.start();
        publishPoison(jdbi, processors.get(0), runId);
        progress.start();
        producers.run();
        long deadline = System.nanoTime() + Duration.ofSeconds(options.timeoutSeconds()).toNanos();
        while (!allArrived(producers, consumer) && System.nanoTime() < deadline) {
          Thread.sleep(20); // bounded poll for the last deliveries
        }
        waitForDeadLetters(processors.get(0), deadline);
      } finally {
        // Whatever failed above, no thread of ours outlives the run.
        progress.stop();
        metrics.forEach(OutboxMetrics::refreshStats);
        meters = registry.getMetersAsString(); // before close() takes the gauges away
        metrics.forEach(OutboxMetrics::close);
        processors.forEach(Outbox::close);
        wakeup.close();
        consumer.close();
      }
      OutboxStats stats = processors.get(0).stats();
      ExampleReport report =
          ExampleReport.of(
              producers.committedAt,
              producers.rolledBack,
              producers.failures(),
              published.get(),
              publisher.handedAt,
              publishedAt,
              consumer.consumedAt,
              consumer.duplicates(),
              start,
              stats,
              processors.get(0).deadLetters().list(100),
              POISON_MESSAGES,
              publisher.callMillis(),
              publisher.meanCallSize());
      report.print(out);
      printMeters(out, meters);
      return report;
    } finally {
      for (int i = brokerSide.size() - 1; i >= 0; i--) {
        brokerSide.get(i).close();
      }
    }
  }

  /**
   * The outbox's Micrometer meters as a registry exported them at the end of the run: what a
   * newcomer would put on a dashboard (see the README's meter table).
   */
  private static void printMeters(PrintStream out, String meters) {
    out.println();
    out.println("=== metrics (outbox-micrometer, per processor) ===");
    meters.lines().filter(l -> l.startsWith("outbox.")).forEach(out::println);
  }

  /** Writes the poison messages, each in a transaction of its own, as any producer would. */
  private static void publishPoison(Jdbi jdbi, Outbox<Handle> outbox, String runId) {
    for (int i = 0; i < POISON_MESSAGES; i++) {
      String payload = "{\"run\":\"" + runId + "\",\"poison\":" + i + "}";
      jdbi.useTransaction(
          h ->
              outbox.publish(
                  h, Message.builder().namespace(POISON_NAMESPACE).payload(payload).build()));
    }
  }

  /** Waits (bounded) until the poison messages are dead letters: they are claimed with the rest. */
  private static void waitForDeadLetters(Outbox<Handle> outbox, long deadline)
      throws InterruptedException {
    while (outbox.stats().deadLetters() < POISON_MESSAGES && System.nanoTime() < deadline) {
      Thread.sleep(20); // bounded poll
    }
  }

  private static boolean allArrived(OrderProducers producers, OrderConsumer consumer) {
    return consumer.consumedAt.keySet().containsAll(producers.committedAt.keySet());
  }

  private static HikariDataSource pool(ExampleOptions options, String url) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(options.producers() + 2 * options.processors() + 2);
    config.setPoolName("example");
    return new HikariDataSource(config);
  }

  private static void prepareTables(Jdbi jdbi, PostgresStorage storage) {
    storage.createSchema();
    jdbi.useHandle(
        h -> {
          h.execute(
              "CREATE TABLE IF NOT EXISTS example_orders ("
                  + "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer text NOT NULL, "
                  + "amount_cents bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
          // A clean slate, so leftovers of an interrupted run cannot blur this run's checks.
          h.execute(
              "TRUNCATE example_orders, "
                  + storage.tableName()
                  + ", "
                  + storage.deadLetterTableName());
        });
  }

  /** The progress line, once a second. */
  private static final class Progress {
    private final PrintStream out;
    private final boolean quiet;
    private final long start;
    private final OrderProducers producers;
    private final AtomicLong published;
    private final OrderConsumer consumer;
    private final Outbox<Handle> outbox;
    private Thread thread;
    private volatile boolean stopped;

    Progress(
        PrintStream out,
        boolean quiet,
        long start,
        OrderProducers producers,
        AtomicLong published,
        OrderConsumer consumer,
        Outbox<Handle> outbox) {
      this.out = out;
      this.quiet = quiet;
      this.start = start;
      this.producers = producers;
      this.published = published;
      this.consumer = consumer;
      this.outbox = outbox;
    }

    void start() {
      if (quiet) {
        return;
      }
      thread =
          new Thread(
              () -> {
                while (!stopped) {
                  try {
                    Thread.sleep(1000); // a progress tick, not a wait for a result
                  } catch (InterruptedException e) {
                    return;
                  }
                  print();
                }
              },
              "progress");
      thread.setDaemon(true);
      thread.start();
    }

    private void print() {
      long backlog;
      try {
        backlog = outbox.stats().pending();
      } catch (RuntimeException e) {
        backlog = -1;
      }
      out.printf(
          "[%5.1fs] written %d (%d rolled back) | published %d | consumed %d | backlog %d%n",
          (System.nanoTime() - start) / 1e9,
          producers.written(),
          producers.rolledBack.size(),
          published.get(),
          consumer.consumed(),
          backlog);
    }

    void stop() throws InterruptedException {
      stopped = true;
      if (thread != null) {
        thread.interrupt();
        thread.join(2000);
        print();
      }
    }
  }
}
