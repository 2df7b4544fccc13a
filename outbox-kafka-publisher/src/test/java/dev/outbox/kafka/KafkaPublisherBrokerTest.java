package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.PublishException.Failure;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What {@link KafkaPublisher} writes and reports, read back from the real broker. */
class KafkaPublisherBrokerTest {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final AtomicLong IDS = new AtomicLong(7_000_000);

  private final TestBroker broker = TestBroker.shared();
  private final List<KafkaPublisher> publishers = new ArrayList<>();

  @AfterEach
  void close() {
    publishers.forEach(KafkaPublisher::close);
  }

  private KafkaPublisher publisher(KafkaPublisher.Builder builder) {
    KafkaPublisher p = builder.build();
    publishers.add(p);
    return p;
  }

  static ClaimedEntry entry(Message m) {
    return ClaimedEntry.builder()
        .id(IDS.incrementAndGet())
        .messageId(UUID.randomUUID())
        .message(m)
        .createdAt(Instant.EPOCH)
        .build();
  }

  private static Map<UUID, ConsumerRecord<byte[], byte[]>> byMessageId(
      List<ConsumerRecord<byte[], byte[]>> records) {
    Map<UUID, ConsumerRecord<byte[], byte[]>> map = new HashMap<>();
    records.forEach(r -> map.put(KafkaRecords.messageId(r), r));
    return map;
  }

  @Test
  void aRecordCarriesKeyPayloadUserHeadersMessageIdAndNamespaceExactly() throws Exception {
    String topic = broker.createTopic("records", 3, Map.of());
    KafkaPublisher publisher =
        publisher(KafkaPublisher.builder(broker.producerConfig()).routes(Map.of("orders", topic)));
    byte[] binary = new byte[300];
    for (int i = 0; i < binary.length; i++) {
      binary[i] = (byte) i;
    }
    ClaimedEntry keyed =
        entry(
            Message.builder()
                .namespace("orders")
                .key(new byte[] {0, (byte) 0xff, 7})
                .payload(binary)
                .header("traceparent", "00-abc-01")
                .header("content-type", "application/octet-stream")
                .header("note", "Grüße ✓")
                .build());
    ClaimedEntry noKey = entry(Message.builder().namespace("orders").payload("no key").build());
    ClaimedEntry emptyKey =
        entry(Message.builder().namespace("orders").key(new byte[0]).payload("").build());

    publisher.publish(List.of(keyed, noKey, emptyKey));

    Map<UUID, ConsumerRecord<byte[], byte[]>> got = byMessageId(broker.readAll(topic, 3, WAIT));
    assertThat(got).hasSize(3);
    ConsumerRecord<byte[], byte[]> r = got.get(keyed.messageId());
    assertThat(r.key()).containsExactly(0, 0xff, 7);
    assertThat(r.value()).isEqualTo(binary);
    List<String> headerNames = new ArrayList<>();
    for (Header h : r.headers()) {
      headerNames.add(h.key());
    }
    assertThat(headerNames)
        .containsExactly(
            "traceparent",
            "content-type",
            "note",
            KafkaPublisher.MESSAGE_ID_HEADER,
            KafkaPublisher.NAMESPACE_HEADER);
    assertThat(KafkaRecords.userHeaders(r)).containsExactlyEntriesOf(keyed.message().headers());
    assertThat(
            new String(
                r.headers().lastHeader(KafkaPublisher.MESSAGE_ID_HEADER).value(),
                StandardCharsets.US_ASCII))
        .isEqualTo(keyed.messageId().toString());
    assertThat(KafkaRecords.namespace(r)).isEqualTo("orders");
    assertThat(got.get(noKey.messageId()).key()).as("no key stays no key").isNull();
    assertThat(got.get(noKey.messageId()).value())
        .isEqualTo("no key".getBytes(StandardCharsets.UTF_8));
    assertThat(got.get(emptyKey.messageId()).key()).as("an empty key stays empty").isEmpty();
    assertThat(got.get(emptyKey.messageId()).value()).isEmpty();
  }

  @Test
  void theKeyPicksThePartitionUnlessTheRouterNamesOne() throws Exception {
    String byKey = broker.createTopic("by-key", 6, Map.of());
    String pinned = broker.createTopic("pinned", 6, Map.of());
    KafkaPublisher publisher =
        publisher(
            KafkaPublisher.builder(broker.producerConfig())
                .router(
                    m ->
                        m.namespace().equals("pinned")
                            ? KafkaRoute.partition(pinned, 4)
                            : KafkaRoute.topic(byKey)));
    List<ClaimedEntry> batch = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      batch.add(
          entry(
              Message.builder()
                  .namespace(i % 4 == 0 ? "pinned" : "free")
                  .key("customer-" + (i % 7))
                  .payload("m" + i)
                  .build()));
    }

    publisher.publish(batch);

    List<ConsumerRecord<byte[], byte[]>> free = broker.readAll(byKey, 45, WAIT);
    assertThat(free).hasSize(45);
    Map<String, Set<Integer>> partitionsOfKey =
        free.stream()
            .collect(
                Collectors.groupingBy(
                    r -> new String(r.key(), StandardCharsets.UTF_8),
                    Collectors.mapping(ConsumerRecord::partition, Collectors.toSet())));
    assertThat(partitionsOfKey).hasSize(7);
    partitionsOfKey.forEach(
        (key, parts) -> assertThat(parts).as("partitions of %s", key).hasSize(1));
    assertThat(partitionsOfKey.values().stream().flatMap(Set::stream).distinct().count())
        .as("7 keys spread over more than one of 6 partitions")
        .isGreaterThan(1);
    List<ConsumerRecord<byte[], byte[]>> pinnedRecords = broker.readAll(pinned, 15, WAIT);
    assertThat(pinnedRecords).hasSize(15).allSatisfy(r -> assertThat(r.partition()).isEqualTo(4));
  }

  @Test
  void eachKeysMessagesArriveInOutboxOrderAcrossBatches() throws Exception {
    String topic = broker.createTopic("order", 4, Map.of());
    KafkaPublisher publisher =
        publisher(KafkaPublisher.builder(broker.producerConfig()).topic(topic));
    int total = 0;
    for (int b = 0; b < 10; b++) {
      List<ClaimedEntry> batch = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        int seq = b * 200 + i;
        batch.add(
            entry(
                Message.builder()
                    .namespace("x")
                    .key("k" + (seq % 11))
                    .payload(Integer.toString(seq))
                    .build()));
      }
      publisher.publish(batch);
      total += batch.size();
    }

    List<ConsumerRecord<byte[], byte[]>> got = broker.readAll(topic, total, WAIT);
    assertThat(got).hasSize(total);
    Map<String, List<Integer>> seqByKey = new LinkedHashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : got) {
      seqByKey
          .computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>())
          .add(Integer.parseInt(new String(r.value(), StandardCharsets.UTF_8)));
    }
    assertThat(seqByKey).hasSize(11);
    seqByKey.forEach((k, seqs) -> assertThat(seqs).as("order of %s", k).isSorted());
  }

  @Test
  void aTopicThatDoesNotExistFailsOnlyItsMessagesRetryablyAndWaitsOnce() {
    String topic = broker.createTopic("exists");
    String ghost = "ghost-" + UUID.randomUUID();
    KafkaPublisher publisher =
        publisher(
            KafkaPublisher.builder(broker.producerConfig())
                .routes(Map.of("real", topic, "ghost", ghost)));
    List<ClaimedEntry> batch = new ArrayList<>();
    List<Long> ghostIds = new ArrayList<>();
    List<UUID> realIds = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      boolean toGhost = i % 4 == 1;
      ClaimedEntry e =
          entry(Message.builder().namespace(toGhost ? "ghost" : "real").payload("p" + i).build());
      batch.add(e);
      if (toGhost) {
        ghostIds.add(e.id());
      } else {
        realIds.add(e.messageId());
      }
    }

    long start = System.nanoTime();
    PublishException failure =
        catchThrowableOfType(PublishException.class, () -> publisher.publish(batch));
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(failure).isNotNull();
    assertThat(failure.failures().keySet()).containsExactlyInAnyOrderElementsOf(ghostIds);
    assertThat(failure.failures().values())
        .allSatisfy(
            f -> {
              assertThat(f.permanent()).isFalse();
              assertThat(f.cause())
                  .isInstanceOf(KafkaEntryException.class)
                  .hasMessageContaining(ghost)
                  .hasCauseInstanceOf(TimeoutException.class);
            });
    // 5 entries to the missing topic, max.block.ms 5 s: the metadata wait happens once per batch.
    assertThat(took).isLessThan(Duration.ofSeconds(9));
    assertThat(broker.readAll(topic, realIds.size(), WAIT).stream().map(KafkaRecords::messageId))
        .containsExactlyInAnyOrderElementsOf(realIds);
  }

  @Test
  void aRecordOverTheBrokersLimitFailsPermanentlyAndAlone() {
    String topic = broker.createTopic("small", 1, Map.of("max.message.bytes", "10000"));
    KafkaPublisher publisher =
        publisher(KafkaPublisher.builder(broker.producerConfig()).topic(topic));
    List<ClaimedEntry> batch = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      batch.add(entry(Message.builder().namespace("x").key("k" + i).payload("fine " + i).build()));
    }
    ClaimedEntry big =
        entry(Message.builder().namespace("x").key("big").payload(new byte[50_000]).build());
    batch.add(5, big);

    PublishException failure =
        catchThrowableOfType(PublishException.class, () -> publisher.publish(batch));

    assertThat(failure.failures().keySet()).containsExactly(big.id());
    Failure f = failure.failureOf(big.id());
    assertThat(f.permanent()).isTrue();
    assertThat(f.cause()).hasRootCauseInstanceOf(RecordTooLargeException.class);
    assertThat(broker.readAll(topic, 10, WAIT).stream().map(KafkaRecords::messageId))
        .containsExactlyInAnyOrderElementsOf(
            batch.stream().filter(e -> e != big).map(ClaimedEntry::messageId).toList());
  }

  @Test
  void afterABrokerSideFailureTheKeysLaterMessagesAreReportedRetryable() {
    String topic = broker.createTopic("key-order", 2, Map.of("max.message.bytes", "10000"));
    KafkaPublisher publisher =
        publisher(KafkaPublisher.builder(broker.producerConfig()).topic(topic));
    ClaimedEntry k1 = entry(Message.builder().namespace("x").key("k").payload("k1").build());
    ClaimedEntry k2 =
        entry(Message.builder().namespace("x").key("k").payload(new byte[30_000]).build());
    ClaimedEntry k3 = entry(Message.builder().namespace("x").key("k").payload("k3").build());
    ClaimedEntry j1 = entry(Message.builder().namespace("x").key("j").payload("j1").build());
    ClaimedEntry k4 = entry(Message.builder().namespace("x").key("k").payload("k4").build());
    ClaimedEntry j2 = entry(Message.builder().namespace("x").key("j").payload("j2").build());

    PublishException failure =
        catchThrowableOfType(
            PublishException.class, () -> publisher.publish(List.of(k1, k2, k3, j1, k4, j2)));

    assertThat(failure.failures().keySet()).containsExactly(k2.id(), k3.id(), k4.id());
    assertThat(failure.failureOf(k2.id()).permanent()).isTrue();
    assertThat(failure.failureOf(k3.id()).permanent()).isFalse();
    assertThat(failure.failureOf(k4.id()).permanent()).isFalse();
    assertThat(failure.failureOf(k4.id()).cause())
        .hasMessageContaining("an earlier message of the same key failed");
    // k3 and k4 were already on their way when k2 failed at the broker: written, and retried.
    assertThat(broker.readAll(topic, 5, WAIT).stream().map(KafkaRecords::messageId))
        .contains(k1.messageId(), j1.messageId(), j2.messageId())
        .doesNotContain(k2.messageId());
  }

  @Test
  void afterAFailureBeforeSendingTheKeysLaterMessagesAreNotSent() {
    String topic = broker.createTopic("held");
    KafkaPublisher publisher =
        publisher(KafkaPublisher.builder(broker.producerConfig()).routes(Map.of("x", topic)));
    ClaimedEntry k1 = entry(Message.builder().namespace("x").key("k").payload("k1").build());
    ClaimedEntry k2 =
        entry(
            Message.builder()
                .namespace("x")
                .key("k")
                .payload("k2")
                .header(KafkaPublisher.MESSAGE_ID_HEADER, "mine")
                .build());
    ClaimedEntry k3 = entry(Message.builder().namespace("x").key("k").payload("k3").build());
    ClaimedEntry n1 = entry(Message.builder().namespace("x").payload("no key").build());

    PublishException failure =
        catchThrowableOfType(
            PublishException.class, () -> publisher.publish(List.of(k1, k2, k3, n1)));

    assertThat(failure.failures().keySet()).containsExactly(k2.id(), k3.id());
    assertThat(failure.failureOf(k2.id()).permanent()).isTrue();
    assertThat(failure.failureOf(k2.id()).cause()).hasMessageContaining("is reserved");
    assertThat(failure.failureOf(k3.id()).permanent()).isFalse();
    assertThat(failure.failureOf(k3.id()).cause())
        .hasMessageContaining("an earlier message of the same key failed");
    assertThat(broker.readAll(topic, 2, WAIT).stream().map(KafkaRecords::messageId))
        .containsExactlyInAnyOrder(k1.messageId(), n1.messageId());
  }

  @Test
  void theSameKeyInAnotherNamespaceIsAnotherKeyAndNotHeldBack() {
    String topic = broker.createTopic("namespaces");
    KafkaPublisher publisher =
        publisher(
            KafkaPublisher.builder(broker.producerConfig()).routes(Map.of("x", topic, "y", topic)));
    ClaimedEntry x1 = entry(Message.builder().namespace("x").key("k").payload("x1").build());
    ClaimedEntry lost = entry(Message.builder().namespace("nowhere").key("k").payload("n").build());
    ClaimedEntry x2 = entry(Message.builder().namespace("x").key("k").payload("x2").build());
    ClaimedEntry y1 = entry(Message.builder().namespace("y").key("k").payload("y1").build());

    PublishException failure =
        catchThrowableOfType(
            PublishException.class, () -> publisher.publish(List.of(x1, lost, x2, y1)));

    // The outbox orders (namespace, key): "nowhere"/k failing says nothing about x/k or y/k.
    assertThat(failure.failures().keySet()).containsExactly(lost.id());
    assertThat(broker.readAll(topic, 3, WAIT).stream().map(KafkaRecords::messageId))
        .containsExactly(x1.messageId(), x2.messageId(), y1.messageId());
  }

  @Test
  void aKeysLaterEntryThatCouldNeverBeSentFailsPermanentlyRatherThanHeldBack() {
    String topic = broker.createTopic("doomed");
    Map<String, Object> config = broker.producerConfig();
    config.put("max.request.size", 5_000);
    KafkaPublisher publisher = publisher(KafkaPublisher.builder(config).routes(Map.of("x", topic)));
    ClaimedEntry first =
        entry(Message.builder().namespace("x").key("k").payload(new byte[6_000]).build());
    ClaimedEntry tooLarge =
        entry(Message.builder().namespace("x").key("k").payload(new byte[6_000]).build());
    ClaimedEntry unrouted = entry(Message.builder().namespace("y").key("k").payload("y").build());
    ClaimedEntry fine = entry(Message.builder().namespace("x").key("k").payload("fine").build());

    PublishException failure =
        catchThrowableOfType(
            PublishException.class,
            () -> publisher.publish(List.of(first, tooLarge, unrouted, fine)));

    assertThat(failure.failures().keySet())
        .containsExactly(first.id(), tooLarge.id(), unrouted.id(), fine.id());
    assertThat(failure.failureOf(first.id()).permanent()).isTrue();
    assertThat(failure.failureOf(tooLarge.id()).permanent()).as("too large anyway").isTrue();
    assertThat(failure.failureOf(tooLarge.id()).cause())
        .hasRootCauseInstanceOf(RecordTooLargeException.class)
        .hasMessageContaining("max.request.size");
    assertThat(failure.failureOf(unrouted.id()).permanent()).as("routed nowhere anyway").isTrue();
    assertThat(failure.failureOf(fine.id()).permanent()).as("held back for order").isFalse();
  }

  @Test
  void aRouterThatThrowsFailsOnlyThatEntryRetryably() {
    String topic = broker.createTopic("router");
    KafkaPublisher publisher =
        publisher(
            KafkaPublisher.builder(broker.producerConfig())
                .router(
                    m -> {
                      if (m.namespace().equals("bug")) {
                        throw new IllegalStateException("routing table not loaded");
                      }
                      return KafkaRoute.topic(topic);
                    }));
    ClaimedEntry ok = entry(Message.builder().namespace("x").payload("ok").build());
    ClaimedEntry bug = entry(Message.builder().namespace("bug").payload("bug").build());

    PublishException failure =
        catchThrowableOfType(PublishException.class, () -> publisher.publish(List.of(ok, bug)));

    assertThat(failure.failures().keySet()).containsExactly(bug.id());
    assertThat(failure.failureOf(bug.id()).permanent()).isFalse();
    assertThat(failure.failureOf(bug.id()).cause())
        .hasMessageContaining("the router threw for namespace 'bug'")
        .hasCauseInstanceOf(IllegalStateException.class);
    assertThat(broker.readAll(topic, 1, WAIT).stream().map(KafkaRecords::messageId))
        .containsExactly(ok.messageId());
  }

  @Test
  void checkDeliverableRefusesExactlyWhatTheProducerWouldRefuseToTheByte() throws Exception {
    String topic = broker.createTopic("limits");
    Map<String, Object> config = broker.producerConfig();
    config.put("max.request.size", 20_000);
    KafkaPublisher publisher = publisher(KafkaPublisher.builder(config).topic(topic));
    assertThat(publisher.maxRecordBytes()).isEqualTo(20_000);
    // The largest payload checkDeliverable accepts with this key and these headers.
    int accepted = 0;
    for (int size = 19_000; size <= 20_000; size++) {
      try {
        publisher.checkDeliverable(message(size));
        accepted = size;
      } catch (IllegalArgumentException e) {
        break;
      }
    }
    assertThat(accepted).isBetween(19_000, 19_999);
    int refused = accepted + 1;
    assertThatThrownBy(() -> publisher.checkDeliverable(message(refused)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("max.request.size is 20000");

    // What it accepts, the producer sends; one byte more, the producer refuses.
    ClaimedEntry ok = entry(message(accepted));
    publisher.publish(List.of(ok));
    ClaimedEntry tooBig = entry(message(refused));
    PublishException failure =
        catchThrowableOfType(PublishException.class, () -> publisher.publish(List.of(tooBig)));
    assertThat(failure.failureOf(tooBig.id()).permanent()).isTrue();
    assertThat(failure.failureOf(tooBig.id()).cause())
        .hasRootCauseInstanceOf(RecordTooLargeException.class);
    assertThat(broker.readAll(topic, 1, WAIT).stream().map(KafkaRecords::messageId))
        .containsExactly(ok.messageId());

    assertThatThrownBy(
            () ->
                publisher.checkDeliverable(
                    Message.builder()
                        .namespace("x")
                        .payload("p")
                        .header(KafkaPublisher.MESSAGE_ID_HEADER, "forged")
                        .build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'outbox.message-id' is reserved");
  }

  private static Message message(int payloadSize) {
    return Message.builder()
        .namespace("limits")
        .key("key-1")
        .payload(new byte[payloadSize])
        .header("content-type", "application/octet-stream")
        .build();
  }
}
