package dev.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class PublishExceptionTest {

  private static ClaimedEntry entry(long id) {
    return ClaimedEntry.builder()
        .id(id)
        .messageId(UUID.randomUUID())
        .message(Message.builder().namespace("n").payload("p").build())
        .createdAt(Instant.EPOCH)
        .build();
  }

  @Test
  void mapsAlignedResultsToEntryIds() {
    List<ClaimedEntry> batch = List.of(entry(10), entry(20), entry(30));
    RuntimeException boom = new RuntimeException("boom");

    PublishException e = PublishException.fromResults(batch, Arrays.asList(null, boom, null));

    assertThat(e.errorCount()).isEqualTo(1);
    assertThat(e.failed(20)).isTrue();
    assertThat(e.failed(10)).isFalse();
    assertThat(e.failureOf(20)).isEqualTo(new PublishException.Failure(boom, false));
    assertThat(e)
        .hasMessageContaining("1 entry failed to publish; first (id 20, retryable)")
        .hasCause(boom);
  }

  @Test
  void distinguishesPermanentFailures() {
    PublishException e =
        PublishException.builder()
            .retryable(entry(1), new RuntimeException("throttled"))
            .permanent(entry(2), new IllegalArgumentException("too large"))
            .build();

    assertThat(e.failureOf(1).permanent()).isFalse();
    assertThat(e.failureOf(2).permanent()).isTrue();
    assertThat(e.getMessage()).startsWith("2 entries failed");
  }

  @Test
  void refusesMisuse() {
    assertThatThrownBy(() -> PublishException.builder().build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> PublishException.fromResults(List.of(entry(1)), List.of()))
        .hasMessageContaining("batch has 1 entries but results has 0");
  }
}
