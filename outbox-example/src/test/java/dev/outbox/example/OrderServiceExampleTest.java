package dev.outbox.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The example, end to end in a small size, against the CI database and in-process ElasticMQ. */
class OrderServiceExampleTest {

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void everyCommittedOrderArrivesAndNoRolledBackOneDoes() throws Exception {
    String url = System.getenv("OUTBOX_TEST_POSTGRES_URL");
    Assumptions.assumeTrue(
        url != null && !url.isBlank(),
        "set OUTBOX_TEST_POSTGRES_URL (e.g. jdbc:postgresql://127.0.0.1:5432/test?user=postgres)"
            + " to run the example against a database; .ci/run does");
    ExampleOptions options =
        ExampleOptions.parse(
            new String[] {
              "--orders=400",
              "--rate=400",
              "--producers=3",
              "--processors=2",
              "--batch-size=50",
              "--rollback-every=5",
              "--timeout-seconds=60"
            },
            Map.of(ExampleOptions.ENV_JDBC_URL, url));
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
    assertThat(report.published()).isGreaterThanOrEqualTo(320);
    assertThat(report.ok()).isTrue();
    assertThat(printed).contains("RESULT: OK", "ElasticMQ started in-process", "p99");
  }

  @Test
  void badOptionsAreNamed() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                ExampleOptions.parse(new String[] {"--orders=0", "--rate=x", "--nope=1"}, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--orders is 0; allowed 1 to 10000000")
        .hasMessageContaining("--rate is 'x', not a whole number")
        .hasMessageContaining("unknown option --nope");
  }
}
