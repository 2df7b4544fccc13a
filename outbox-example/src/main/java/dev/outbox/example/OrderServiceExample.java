package dev.outbox.example;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.ClaimedEntry;
import dev.outbox.Outbox;
import dev.outbox.OutboxListener;
import dev.outbox.postgres.PostgresStorage;
import dev.outbox.postgres.PostgresWakeupListener;
import dev.outbox.sqs.SqsPublisher;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * An order service wired the way a production service would be: orders and their {@code
 * order-created} messages written in one PostgreSQL transaction, two Outbox processors woken by
 * LISTEN/NOTIFY publishing to SQS, and a consumer that checks every committed order arrived and no
 * rolled-back one did.
 *
 * <p>Run it with {@code mvn -B -q install -DskipTests && mvn -B -q -pl outbox-example exec:java};
 * pass options with {@code -Dexec.args="--orders=5000 --rate=300"}.
 */
public final class OrderServiceExample {

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
    try {
      checkDatabase(options.jdbcUrl());
    } catch (SQLException e) {
      System.err.printf(
          "Cannot reach PostgreSQL at %s: %s%n"
              + "Start one, for example:%n"
              + "  a local server:  pg_ctlcluster 15 main start   (or your OS's service manager)%n"
              + "  with Docker:     docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16%n"
              + "or point the example at yours: %s=jdbc:postgresql://host:5432/db?user=...&password=...%n",
          options.jdbcUrl(), e.getMessage(), ExampleOptions.ENV_JDBC_URL);
      System.exit(2);
      return;
    }
    ExampleReport report = run(options, System.out);
    System.exit(report.ok() ? 0 : 1);
  }

  private static void checkDatabase(String url) throws SQLException {
    DriverManager.setLoginTimeout(5);
    try (Connection c = DriverManager.getConnection(url)) {
      c.isValid(5);
    }
  }

  /** Runs the example and returns its report; what {@code main} and the test call. */
  static ExampleReport run(ExampleOptions options, PrintStream out) throws Exception {
    String runId = UUID.randomUUID().toString();
    try (HikariDataSource pool = pool(options);
        LocalSqs sqs = new LocalSqs(options.sqsEndpoint())) {
      Jdbi jdbi = Jdbi.create(pool);
      PostgresStorage storage = PostgresStorage.builder(jdbi).tableName("example_outbox").build();
      prepareTables(jdbi, storage);
      String queueUrl = sqs.queue("order-created");
      out.printf("database: %s%n", options.jdbcUrl());
      out.printf(
          "SQS: %s%s, queue %s%n",
          sqs.endpoint(),
          sqs.inProcess()
              ? " (ElasticMQ started in-process; pass --sqs-endpoint for a real one)"
              : "",
          queueUrl);
      out.printf(
          "running %d orders at %d/s with %d producers, %d processors (batch %d), every %s rolled back%n",
          options.orders(),
          options.rate(),
          options.producers(),
          options.processors(),
          options.batchSize(),
          options.rollbackEvery() == 0 ? "none" : options.rollbackEvery() + "th");

      SqsPublisher publisher = SqsPublisher.builder(sqs.client()).queueUrl(queueUrl).build();
      AtomicLong published = new AtomicLong();
      OutboxListener counting =
          new OutboxListener() {
            @Override
            public void onPublished(List<ClaimedEntry> entries) {
              published.addAndGet(entries.size());
            }
          };
      List<Outbox<Handle>> processors = new ArrayList<>();
      for (int i = 0; i < options.processors(); i++) {
        processors.add(
            Outbox.builder(storage, publisher)
                .processorId("example-" + i + "-" + runId.substring(0, 8))
                .batchSize(options.batchSize())
                .processInterval(Duration.ofSeconds(2)) // the fallback; NOTIFY does the waking
                .listener(counting)
                .build());
      }
      PostgresWakeupListener wakeup =
          PostgresWakeupListener.builder(options.jdbcUrl()).channelOf(storage).build();
      processors.forEach(wakeup::register);
      wakeup.start();
      processors.forEach(Outbox::start);

      long start = System.nanoTime();
      OrderProducers producers = new OrderProducers(jdbi, processors.get(0), options, runId);
      QueueConsumer consumer = new QueueConsumer(sqs.client(), queueUrl, runId, 4).start();
      Progress progress =
          new Progress(
              out, options.quiet(), start, producers, published, consumer, processors.get(0));
      try {
        progress.start();
        producers.run();
        long deadline = System.nanoTime() + Duration.ofSeconds(options.timeoutSeconds()).toNanos();
        while (!allArrived(producers, consumer) && System.nanoTime() < deadline) {
          Thread.sleep(20); // bounded poll for the last deliveries
        }
      } finally {
        progress.stop();
        processors.forEach(Outbox::close);
        wakeup.close();
        consumer.close();
      }
      ExampleReport report =
          ExampleReport.of(
              producers.committedAt,
              producers.rolledBack,
              producers.failures(),
              published.get(),
              consumer.consumedAt,
              consumer.duplicates(),
              start);
      report.print(out);
      return report;
    }
  }

  private static boolean allArrived(OrderProducers producers, QueueConsumer consumer) {
    return consumer.consumedAt.keySet().containsAll(producers.committedAt.keySet());
  }

  private static HikariDataSource pool(ExampleOptions options) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(options.jdbcUrl());
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
    private final QueueConsumer consumer;
    private final Outbox<Handle> outbox;
    private Thread thread;
    private volatile boolean stopped;

    Progress(
        PrintStream out,
        boolean quiet,
        long start,
        OrderProducers producers,
        AtomicLong published,
        QueueConsumer consumer,
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
