package dev.outbox.example;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The example's options, from {@code --name=value} arguments, with defaults that need nothing but a
 * JDK and Maven.
 *
 * @param jdbcUrl the database ({@code --jdbc-url}, else {@code OUTBOX_EXAMPLE_JDBC_URL}); null for
 *     an embedded PostgreSQL started for the run
 * @param jdbcUrlSource where {@code jdbcUrl} came from, for messages; null with it
 * @param broker where the outbox publishes: {@code sqs} (the default) or {@code kafka} ({@code
 *     --broker})
 * @param sqsEndpoint an SQS endpoint ({@code --sqs-endpoint}); null to start ElasticMQ in-process
 * @param kafkaBootstrap a Kafka {@code bootstrap.servers} ({@code --kafka-bootstrap}); null to
 *     start a single-node KRaft broker in-process
 * @param orders how many order transactions to run, rolled-back ones included
 * @param rate orders per second across all producers
 * @param producers producer threads
 * @param processors Outbox processors
 * @param batchSize the processors' batch size
 * @param rollbackEvery every n-th transaction rolls back on purpose (0: none)
 * @param timeoutSeconds how long to wait for the queue to deliver everything after the last order
 * @param warmUpSeconds at most how long to warm up the in-process ElasticMQ before the timed run
 *     (0: not)
 * @param quiet no progress lines
 */
record ExampleOptions(
    String jdbcUrl,
    String jdbcUrlSource,
    Broker broker,
    String sqsEndpoint,
    String kafkaBootstrap,
    int orders,
    int rate,
    int producers,
    int processors,
    int batchSize,
    int rollbackEvery,
    int timeoutSeconds,
    int warmUpSeconds,
    boolean quiet) {

  static final String ENV_JDBC_URL = "OUTBOX_EXAMPLE_JDBC_URL";

  /** The brokers the example can publish to. */
  enum Broker {
    /** Amazon SQS (or ElasticMQ in-process). */
    SQS,
    /** Apache Kafka (or a single-node KRaft broker in-process). */
    KAFKA
  }

  static final String USAGE =
      String.join(
          "\n",
          "usage: OrderServiceExample [--name=value | --name value ...]",
          "  --jdbc-url=URL         PostgreSQL (default: $"
              + ENV_JDBC_URL
              + ", else an embedded PostgreSQL)",
          "  --broker=sqs|kafka     where the outbox publishes (default sqs)",
          "  --sqs-endpoint=URL     an SQS endpoint (default: an ElasticMQ started in-process)",
          "  --kafka-bootstrap=H:P  Kafka bootstrap servers, with --broker=kafka (default: a"
              + " single-node KRaft broker started in-process)",
          "  --orders=N             order transactions to run (default 1000)",
          "  --rate=N               orders per second (default 200)",
          "  --producers=N          producer threads (default 3)",
          "  --processors=N         Outbox processors (default 2)",
          "  --batch-size=N         processor batch size (default 100)",
          "  --rollback-every=N     roll back every N-th transaction on purpose (default 10; 0 = never)",
          "  --timeout-seconds=N    wait for delivery after the last order (default 60)",
          "  --warm-up-seconds=N    at most this long warming up the in-process ElasticMQ (default 10; 0 = no)",
          "  --quiet                no progress lines");

  static ExampleOptions parse(String[] args, Map<String, String> env) {
    Map<String, String> given = new TreeMap<>();
    boolean quiet = false;
    List<String> errors = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--quiet")) {
        quiet = true;
      } else if (arg.equals("--help") || arg.equals("-h")) {
        throw new IllegalArgumentException(USAGE);
      } else if (arg.startsWith("--") && arg.contains("=")) {
        given.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
      } else if (arg.startsWith("--") && i + 1 < args.length && !args[i + 1].startsWith("--")) {
        given.put(arg.substring(2), args[++i]); // "--name value", as in "--broker kafka"
      } else {
        errors.add("unknown argument '" + arg + "'");
      }
    }
    String url = given.remove("jdbc-url");
    String urlSource = url == null ? null : "--jdbc-url";
    if (url != null && url.isBlank()) {
      errors.add(
          "--jdbc-url is empty; give a JDBC URL, or leave it out for an embedded PostgreSQL");
    }
    if (url == null && env.get(ENV_JDBC_URL) != null && !env.get(ENV_JDBC_URL).isBlank()) {
      url = env.get(ENV_JDBC_URL); // set but empty counts as not set, as in the shell
      urlSource = ENV_JDBC_URL;
    }
    String brokerName = given.remove("broker");
    Broker broker = Broker.SQS;
    if (brokerName != null) {
      switch (brokerName.trim()) {
        case "sqs" -> broker = Broker.SQS;
        case "kafka" -> broker = Broker.KAFKA;
        default -> errors.add("--broker is '" + brokerName + "'; allowed sqs or kafka");
      }
    }
    String sqs = given.remove("sqs-endpoint");
    String kafka = given.remove("kafka-bootstrap");
    if (kafka != null && kafka.isBlank()) {
      errors.add(
          "--kafka-bootstrap is empty; give host:port, or leave it out for an in-process broker");
    }
    if (kafka != null && broker != Broker.KAFKA) {
      errors.add("--kafka-bootstrap is given, but --broker is not kafka");
    }
    if (sqs != null && broker != Broker.SQS) {
      errors.add("--sqs-endpoint is given, but --broker is not sqs");
    }
    int orders = number(given, "orders", 1000, 1, 10_000_000, errors);
    int rate = number(given, "rate", 200, 1, 1_000_000, errors);
    int producers = number(given, "producers", 3, 1, 64, errors);
    int processors = number(given, "processors", 2, 1, 16, errors);
    int batchSize = number(given, "batch-size", 100, 1, 10_000, errors);
    int rollbackEvery = number(given, "rollback-every", 10, 0, Integer.MAX_VALUE, errors);
    int timeout = number(given, "timeout-seconds", 60, 1, 3600, errors);
    int warmUp = number(given, "warm-up-seconds", 10, 0, 600, errors);
    given.keySet().forEach(k -> errors.add("unknown option --" + k));
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", errors) + "\n" + USAGE);
    }
    return new ExampleOptions(
        url,
        urlSource,
        broker,
        sqs,
        kafka,
        orders,
        rate,
        producers,
        processors,
        batchSize,
        rollbackEvery,
        timeout,
        warmUp,
        quiet);
  }

  private static int number(
      Map<String, String> given, String name, int dflt, int min, int max, List<String> errors) {
    String text = given.remove(name);
    if (text == null) {
      return dflt;
    }
    try {
      int value = Integer.parseInt(text.trim());
      if (value < min || value > max) {
        errors.add("--" + name + " is " + value + "; allowed " + min + " to " + max);
      }
      return value;
    } catch (NumberFormatException e) {
      errors.add("--" + name + " is '" + text + "', not a whole number");
      return dflt;
    }
  }
}
