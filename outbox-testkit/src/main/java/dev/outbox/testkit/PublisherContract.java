package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Publisher} must do. An adapter's test class extends this, provides the
 * publisher and a way to read back what the broker received, and inherits every test.
 *
 * <p>Entry ids are unique per test class instance, starting at 1,000,000 and increasing; message
 * ids are random UUIDs, so a subclass can tell this test's messages from leftovers.
 */
public abstract class PublisherContract {

  private static final AtomicLong NEXT_ID = new AtomicLong(1_000_000);

  /** The publisher under test. Called once per test. */
  protected abstract Publisher publisher();

  /**
   * The messages the broker received in the namespace, waiting (at most {@code timeout}) until at
   * least {@code atLeast} arrived; may return more when the broker delivered duplicates.
   */
  protected abstract List<ReceivedMessage> received(
      String namespace, int atLeast, Duration timeout);

  /** A namespace this publisher routes. */
  protected String namespace() {
    return "contract";
  }

  /**
   * An entry with this id that the publisher must refuse (for instance one routed nowhere or over
   * the broker's size limit), or empty when it cannot be made to fail; then the partial-failure
   * test is skipped.
   */
  protected Optional<ClaimedEntry> unpublishableEntry(long id) {
    return Optional.empty();
  }

  /** Whether the broker carries message keys back to consumers. */
  protected boolean carriesKeys() {
    return true;
  }

  /** Whether the broker carries arbitrary (non-UTF-8) payload bytes. */
  protected boolean carriesBinaryPayloads() {
    return true;
  }

  /** How long to wait for messages to arrive. */
  protected Duration receiveTimeout() {
    return Duration.ofSeconds(20);
  }

  /** A new entry with a fresh id and a fresh message id. */
  protected ClaimedEntry entry(Message message) {
    return entry(NEXT_ID.incrementAndGet(), message);
  }

  /** A new entry with this id and a fresh message id. */
  protected static ClaimedEntry entry(long id, Message message) {
    return ClaimedEntry.builder()
        .id(id)
        .messageId(UUID.randomUUID())
        .message(message)
        .createdAt(FakeClock.DEFAULT_START)
        .build();
  }

  private Message text(int i) {
    return Message.builder()
        .namespace(namespace())
        .key("key-" + (i % 3))
        .payload("{\"n\":" + i + ",\"text\":\"Grüße ✓\"}")
        .header("content-type", "application/json")
        .header("seq", Integer.toString(i))
        .build();
  }

  private Map<UUID, ReceivedMessage> byMessageId(List<ReceivedMessage> received) {
    return received.stream()
        .collect(Collectors.toMap(ReceivedMessage::messageId, r -> r, (a, b) -> a, HashMap::new));
  }

  private static List<UUID> messageIds(List<ClaimedEntry> entries) {
    return entries.stream().map(ClaimedEntry::messageId).toList();
  }

  @Test
  void everyEntryOfABatchArrivesWithPayloadHeadersAndMessageId() throws Exception {
    List<ClaimedEntry> batch = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      batch.add(entry(text(i)));
    }

    publisher().publish(batch);

    Map<UUID, ReceivedMessage> got =
        byMessageId(received(namespace(), batch.size(), receiveTimeout()));
    for (ClaimedEntry e : batch) {
      ReceivedMessage r = got.get(e.messageId());
      assertThat(r).as("entry %d (message %s) arrived", e.id(), e.messageId()).isNotNull();
      assertThat(r.payload()).isEqualTo(e.message().payload());
      assertThat(r.headers()).containsAllEntriesOf(e.message().headers());
      if (carriesKeys()) {
        assertThat(r.key()).isEqualTo(e.message().key());
      }
    }
  }

  @Test
  void aBatchLargerThanTheBrokersOwnBatchLimitArrivesCompletely() throws Exception {
    List<ClaimedEntry> batch = new ArrayList<>();
    for (int i = 0; i < 95; i++) {
      batch.add(entry(text(i)));
    }

    publisher().publish(batch);

    Map<UUID, ReceivedMessage> got =
        byMessageId(received(namespace(), batch.size(), receiveTimeout()));
    assertThat(got.keySet()).containsAll(messageIds(batch));
  }

  @Test
  void binaryPayloadsArriveByteExact() throws Exception {
    assumeThat(carriesBinaryPayloads()).as("broker carries binary payloads").isTrue();
    byte[] bytes = new byte[256];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (255 - i);
    }
    ClaimedEntry e = entry(Message.builder().namespace(namespace()).payload(bytes).build());

    publisher().publish(List.of(e));

    ReceivedMessage r = byMessageId(received(namespace(), 1, receiveTimeout())).get(e.messageId());
    assertThat(r).isNotNull();
    assertThat(r.payload()).isEqualTo(bytes);
  }

  @Test
  void aPartialFailureNamesExactlyTheFailedEntriesAndSendsTheRest() {
    long probeId = NEXT_ID.incrementAndGet();
    assumeThat(unpublishableEntry(probeId)).as("publisher can be made to fail").isPresent();
    List<ClaimedEntry> batch = new ArrayList<>();
    List<Long> bad = new ArrayList<>();
    List<UUID> badMessages = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      if (i % 5 == 2) {
        ClaimedEntry e = unpublishableEntry(NEXT_ID.incrementAndGet()).orElseThrow();
        bad.add(e.id());
        badMessages.add(e.messageId());
        batch.add(e);
      } else {
        batch.add(entry(text(i)));
      }
    }

    PublishException failure =
        catchThrowableOfType(PublishException.class, () -> publisher().publish(batch));

    assertThat(failure).as("a PublishException").isNotNull();
    assertThat(failure.failures().keySet()).containsExactlyInAnyOrderElementsOf(bad);
    assertThat(failure.errorCount()).isEqualTo(bad.size());
    List<UUID> good =
        batch.stream().filter(e -> !bad.contains(e.id())).map(ClaimedEntry::messageId).toList();
    Map<UUID, ReceivedMessage> got =
        byMessageId(received(namespace(), good.size(), receiveTimeout()));
    assertThat(got.keySet()).containsAll(good).doesNotContainAnyElementsOf(badMessages);
  }
}
