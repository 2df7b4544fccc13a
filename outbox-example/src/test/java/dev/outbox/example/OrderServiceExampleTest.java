package dev.outbox.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestDatabases;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The example, end to end in a small size, with in-process ElasticMQ: once on the tests' database
 * (OUTBOX_TEST_POSTGRES_URL, else an embedded PostgreSQL), once on the example's own default with
 * no database given (an embedded PostgreSQL), which is what a new user's first command runs.
 */
class OrderServiceExampleTest {

  private static final String[] SMALL_RUN = {
    "--orders=400",
    "--rate=400",
    "--producers=3",
    "--processors=2",
    "--batch-size=50",
    "--rollback-every=5",
    "--timeout-seconds=60",
    "--warm-up-seconds=0"
  };

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void onTheTestDatabaseEveryCommittedOrderArrivesAndNoRolledBackOneDoes() throws Exception {
    TestDatabase database = TestDatabases.postgres();
    ExampleOptions options =
        ExampleOptions.parse(SMALL_RUN, Map.of(ExampleOptions.ENV_JDBC_URL, database.url()));

    String printed = runAndCheck(options);

    assertThat(printed).contains("database: PostgreSQL ", "(" + ExampleOptions.ENV_JDBC_URL + ")");
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void withNoDatabaseGivenItRunsOnAnEmbeddedPostgresAndSaysSo() throws Exception {
    ExampleOptions options = ExampleOptions.parse(SMALL_RUN, Map.of());
    assertThat(options.jdbcUrl()).isNull();

    String printed = runAndCheck(options);

    assertThat(printed)
        .contains("database: embedded PostgreSQL 17.", "no --jdbc-url or OUTBOX_EXAMPLE_JDBC_URL");
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void withBrokerKafkaItPublishesToAnInProcessKafkaAndDeadLettersThePoison() throws Exception {
    TestDatabase database = TestDatabases.postgres();
    String[] args = java.util.Arrays.copyOf(SMALL_RUN, SMALL_RUN.length + 2);
    args[SMALL_RUN.length] = "--broker";
    args[SMALL_RUN.length + 1] = "kafka";
    ExampleOptions options =
        ExampleOptions.parse(args, Map.of(ExampleOptions.ENV_JDBC_URL, database.url()));
    assertThat(options.broker()).isEqualTo(ExampleOptions.Broker.KAFKA);

    String printed = runAndCheck(options, "KRaft broker started in-process");

    assertThat(printed)
        .contains("Kafka: 127.0.0.1:", "topic outbox-example-orders (4 partitions)")
        .doesNotContain("ElasticMQ")
        .contains("no Kafka topic is routed for namespace 'order-audit'");
  }

  @Test
  void aGivenKafkaThatCannotBeReachedIsNamed() {
    ExampleOptions options =
        ExampleOptions.parse(
            new String[] {"--broker=kafka", "--kafka-bootstrap=127.0.0.1:1"}, Map.of());

    assertThatThrownBy(() -> new LocalKafka(options.kafkaBootstrap(), 2))
        .isInstanceOf(LocalKafka.UnreachableException.class)
        .hasMessageContaining("--kafka-bootstrap is 127.0.0.1:1")
        .hasMessageContaining("Kafka cannot be reached there within 2 s");
  }

  private static String runAndCheck(ExampleOptions options) throws Exception {
    return runAndCheck(options, "ElasticMQ started in-process");
  }

  private static String runAndCheck(ExampleOptions options, String brokerLine) throws Exception {
    ByteArrayOutputStream output = new ByteArrayOutputStream();

    ExampleReport report =
        OrderServiceExample.run(options, new PrintStream(output, true, StandardCharsets.UTF_8));

    String printed = output.toString(StandardCharsets.UTF_8);
    System.out.print(printed);
    assertThat(report.missing()).as("missing").isZero();
    assertThat(report.leaked()).as("leaked").isZero();
    assertThat(report.rolledBack()).isEqualTo(80);
    assertThat(report.committed()).isEqualTo(320);
    assertThat(report.consumed()).isEqualTo(320);
    assertThat(report.published()).as("orders and the poison message").isGreaterThanOrEqualTo(320);
    assertThat(report.deadLetters())
        .singleElement()
        .satisfies(d -> assertThat(d.message().namespace()).isEqualTo("order-audit"));
    assertThat(report.stats().pending()).as("pending after the run").isZero();
    assertThat(report.stats().deadLetters()).isEqualTo(1);
    assertThat(report.endToEnd().p99()).as("end-to-end p99 was measured").isPositive();
    assertThat(report.handoff().p50()).isLessThanOrEqualTo(report.outbox().p50());
    assertThat(report.ok()).isTrue();
    assertThat(printed)
        .contains(
            "RESULT: OK",
            brokerLine,
            "commit-to-handoff latency",
            "commit-to-consume latency",
            "dead letters                1",
            " order-audit, 1 attempt(s): ",
            "=== metrics (outbox-micrometer, per processor) ===",
            "outbox.messages.published(COUNTER)",
            "outbox.messages.dead.lettered(COUNTER)",
            "outbox.entries.pending(GAUGE)");
    return printed;
  }

  @Test
  void aGivenDatabaseThatCannotBeReachedIsNamedAndNeverReplaced() {
    ExampleOptions options =
        ExampleOptions.parse(
            new String[] {"--jdbc-url=jdbc:postgresql://127.0.0.1:1/nowhere?user=postgres"},
            Map.of());

    assertThatThrownBy(() -> OrderServiceExample.database(options))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("--jdbc-url is jdbc:postgresql://127.0.0.1:1/nowhere")
        .hasMessageContaining("PostgreSQL cannot be reached there");
  }

  @Test
  void theEnvironmentVariableIsUsedWhenNoOptionIsGivenAndAnEmptyOneCountsAsUnset() {
    assertThat(
            ExampleOptions.parse(new String[0], Map.of(ExampleOptions.ENV_JDBC_URL, "jdbc:x"))
                .jdbcUrlSource())
        .isEqualTo(ExampleOptions.ENV_JDBC_URL);
    assertThat(
            ExampleOptions.parse(new String[0], Map.of(ExampleOptions.ENV_JDBC_URL, " ")).jdbcUrl())
        .isNull();
    assertThat(
            ExampleOptions.parse(
                    new String[] {"--jdbc-url=jdbc:y"},
                    Map.of(ExampleOptions.ENV_JDBC_URL, "jdbc:x"))
                .jdbcUrl())
        .as("the option wins")
        .isEqualTo("jdbc:y");
  }

  @Test
  void badOptionsAreNamed() {
    assertThatThrownBy(
            () ->
                ExampleOptions.parse(
                    new String[] {"--orders=0", "--rate=x", "--nope=1", "--jdbc-url="}, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--orders is 0; allowed 1 to 10000000")
        .hasMessageContaining("--rate is 'x', not a whole number")
        .hasMessageContaining("unknown option --nope")
        .hasMessageContaining("--jdbc-url is empty");
    assertThatThrownBy(
            () ->
                ExampleOptions.parse(
                    new String[] {"--broker", "rabbit", "--sqs-endpoint=http://x"}, Map.of()))
        .hasMessageContaining("--broker is 'rabbit'; allowed sqs or kafka");
    assertThatThrownBy(() -> ExampleOptions.parse(new String[] {"--kafka-bootstrap=h:1"}, Map.of()))
        .hasMessageContaining("--kafka-bootstrap is given, but --broker is not kafka");
    assertThatThrownBy(
            () ->
                ExampleOptions.parse(
                    new String[] {"--broker=kafka", "--sqs-endpoint=http://x"}, Map.of()))
        .hasMessageContaining("--sqs-endpoint is given, but --broker is not sqs");
  }

  @Test
  void theBrokerIsSqsUnlessKafkaIsAskedForEitherWay() {
    assertThat(ExampleOptions.parse(new String[0], Map.of()).broker())
        .isEqualTo(ExampleOptions.Broker.SQS);
    assertThat(ExampleOptions.parse(new String[] {"--broker=kafka"}, Map.of()).broker())
        .isEqualTo(ExampleOptions.Broker.KAFKA);
    ExampleOptions spaced =
        ExampleOptions.parse(
            new String[] {"--broker", "kafka", "--kafka-bootstrap", "k:9092", "--quiet"}, Map.of());
    assertThat(spaced.broker()).isEqualTo(ExampleOptions.Broker.KAFKA);
    assertThat(spaced.kafkaBootstrap()).isEqualTo("k:9092");
    assertThat(spaced.quiet()).isTrue();
  }
}
