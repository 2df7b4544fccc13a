package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.FailedEntry;
import dev.outbox.NewEntry;
import dev.outbox.Outbox;
import dev.outbox.OutboxConfig;
import dev.outbox.ProcessorStorage;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class OutboxBuilderTest {

  private final InMemoryStorage<Object> storage = new InMemoryStorage<>();
  private final RecordingPublisher publisher = new RecordingPublisher();

  @Test
  void defaultsWork() {
    OutboxConfig c = Outbox.builder(storage, publisher).build().config();

    assertThat(c.processorId()).isNotBlank().hasSizeLessThanOrEqualTo(200);
    assertThat(c.batchSize()).isEqualTo(100);
    assertThat(c.claimDuration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.processInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.busyInterval()).isEqualTo(Duration.ofMillis(20));
    assertThat(c.maxAttempts()).as("unlimited").isZero();
    assertThat(c.retryBackoffInitial()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.retryBackoffMax()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.maxMessageBytes()).isEqualTo(1024 * 1024);
    assertThat(Outbox.builder(storage, publisher).build().processorId())
        .as("default ids differ between outboxes")
        .isNotEqualTo(c.processorId());
  }

  static Stream<Arguments> invalidSettings() {
    return Stream.of(
        bad(b -> b.batchSize(0), "batchSize is 0; allowed 1 to 10000"),
        bad(b -> b.batchSize(10_001), "batchSize is 10001; allowed 1 to 10000"),
        bad(b -> b.processorId(" "), "processorId is ' '"),
        bad(b -> b.processorId("x".repeat(201)), "it must be 1 to 200 characters"),
        bad(
            b -> b.claimDuration(Duration.ofMillis(10)),
            "claimDuration is PT0.01S; allowed PT0.1S to PT24H"),
        bad(b -> b.claimDuration(null), "claimDuration must not be null"),
        bad(
            b -> b.processInterval(Duration.ZERO),
            "processInterval is PT0S; allowed PT0.001S to PT24H"),
        bad(b -> b.processInterval(Duration.ofDays(2)), "processInterval is PT48H"),
        bad(
            b -> b.busyInterval(Duration.ofMillis(-1)),
            "busyInterval is PT-0.001S; allowed PT0S to PT24H"),
        bad(b -> b.maxAttempts(0), "maxAttempts is 0; allowed 1 or more"),
        bad(
            b -> b.retryBackoff(Duration.ofSeconds(-1), Duration.ofSeconds(1)),
            "retryBackoff initial is PT-1S"),
        bad(
            b -> b.retryBackoff(Duration.ofSeconds(10), Duration.ofSeconds(1)),
            "retryBackoff max (PT1S) is less than its initial value (PT10S)"),
        bad(b -> b.retryJitter(1.5), "retryJitter is 1.5; allowed 0 to 1"),
        bad(b -> b.retryJitter(Double.NaN), "retryJitter is NaN"),
        bad(
            b -> b.errorBackoff(Duration.ZERO, Duration.ofSeconds(1)),
            "errorBackoff initial is PT0S"),
        bad(
            b -> b.errorBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)),
            "errorBackoff max (PT1S) is less"),
        bad(b -> b.maxMessageBytes(0), "maxMessageBytes is 0; allowed 1 to 67108864"),
        bad(b -> b.shutdownTimeout(Duration.ofHours(2)), "shutdownTimeout is PT2H"),
        bad(b -> b.clock(null), "clock must not be null"),
        bad(b -> b.listener(null), "listener must not be null"),
        bad(b -> b.threadFactory(null), "threadFactory must not be null"),
        bad(b -> b.random(null), "random must not be null"));
  }

  private static Arguments bad(UnaryOperator<Outbox.Builder<Object>> setting, String message) {
    return Arguments.of(setting, message);
  }

  @ParameterizedTest
  @MethodSource("invalidSettings")
  void everyInvalidSettingIsRejectedByName(
      UnaryOperator<Outbox.Builder<Object>> setting, String message) {
    Outbox.Builder<Object> builder = setting.apply(Outbox.builder(storage, publisher));

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid outbox configuration: ")
        .hasMessageContaining(message);
  }

  @Test
  void allInvalidSettingsAreReportedAtOnce() {
    assertThatThrownBy(
            () -> Outbox.builder(storage, publisher).batchSize(-1).maxMessageBytes(-1).build())
        .hasMessageContaining("batchSize is -1")
        .hasMessageContaining("maxMessageBytes is -1");
  }

  @Test
  void nullStorageOrPublisherIsRejected() {
    assertThatThrownBy(() -> Outbox.builder(null, null).build())
        .hasMessageContaining("storage must not be null")
        .hasMessageContaining("publisher must not be null");
  }

  @Test
  void maxAttemptsNeedsAStorageThatKeepsDeadLetters() {
    ProcessorStorage<Object> noDeadLetters =
        new ProcessorStorage<>() {
          @Override
          public void publish(Object txn, List<NewEntry> entries) {}

          @Override
          public List<ClaimedEntry> claim(ClaimRequest request) {
            return List.of();
          }

          @Override
          public int delete(UUID token, Collection<Long> ids) {
            return 0;
          }

          @Override
          public int renew(UUID token, Collection<Long> ids, Instant deadline) {
            return 0;
          }

          @Override
          public int release(UUID token, List<FailedEntry> failures) {
            return 0;
          }
        };

    assertThatThrownBy(() -> Outbox.builder(noDeadLetters, publisher).maxAttempts(3).build())
        .hasMessageContaining("maxAttempts is 3 but")
        .hasMessageContaining("keeps no dead letters");
    Outbox<Object> unlimited = Outbox.builder(noDeadLetters, publisher).build();
    assertThatThrownBy(unlimited::deadLetters).isInstanceOf(UnsupportedOperationException.class);
  }
}
