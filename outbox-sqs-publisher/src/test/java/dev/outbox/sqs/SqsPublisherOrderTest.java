package dev.outbox.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.testkit.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/** {@link SqsPublisher#keepsOrder()}: when it is declared, and that FIFO calls keep it. */
class SqsPublisherOrderTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final AtomicLong IDS = new AtomicLong(7_000_000);
  private static final String FIFO = "http://127.0.0.1:1/000000000000/q.fifo";
  private static final String STANDARD = "http://127.0.0.1:1/000000000000/q";

  private static ElasticMq sqs;

  @BeforeAll
  static void startElasticMq() {
    sqs = ElasticMq.start();
  }

  @AfterAll
  static void stopElasticMq() {
    sqs.close();
  }

  private static ClaimedEntry entry(String namespace, String key, int seq) {
    return entry(Message.builder().namespace(namespace).key(key).payload(key + "#" + seq).build());
  }

  private static ClaimedEntry entry(Message m) {
    return ClaimedEntry.builder()
        .id(IDS.incrementAndGet())
        .messageId(UUID.randomUUID())
        .message(m)
        .createdAt(FakeClock.DEFAULT_START)
        .build();
  }

  private static ClaimedEntry failing(ClaimedEntry e) {
    return entry(e.message().toBuilder().header(FlakySqs.FAIL_HEADER, "yes").build());
  }

  /** The payloads that arrived, per namespace/key, first deliveries in arrival order. */
  private static Map<String, List<String>> arrivedByKey(String queueUrl, int atLeast) {
    Map<String, List<String>> byKey = new LinkedHashMap<>();
    Set<UUID> seen = new HashSet<>();
    for (var m : sqs.receive(queueUrl, atLeast, WAIT)) {
      if (seen.add(SqsMessages.messageId(m))) {
        Message o = SqsMessages.toOutboxMessage(m);
        byKey
            .computeIfAbsent(o.namespace() + "/" + o.keyAsString(), k -> new ArrayList<>())
            .add(o.payloadAsString());
      }
    }
    return byKey;
  }

  @Test
  void keepsOrderWhenEveryQueueIsFifoAndKnownAtBuildTime() {
    var client = sqs.client();
    assertThat(SqsPublisher.builder(client).queueUrl(FIFO).build().keepsOrder()).isTrue();
    assertThat(SqsPublisher.builder(client).queueUrl(STANDARD).build().keepsOrder()).isFalse();
    assertThat(
            SqsPublisher.builder(client)
                .routes(Map.of("a", FIFO, "b", FIFO.replace("q.", "r.")))
                .build()
                .keepsOrder())
        .isTrue();
    assertThat(
            SqsPublisher.builder(client)
                .routes(Map.of("a", FIFO, "b", STANDARD))
                .build()
                .keepsOrder())
        .as("one standard queue")
        .isFalse();
    assertThat(SqsPublisher.builder(client).router(ns -> Optional.of(FIFO)).build().keepsOrder())
        .as("a router cannot be checked")
        .isFalse();
    assertThat(
            SqsPublisher.builder(client)
                .router(ns -> Optional.of(FIFO))
                .keepsOrder(true)
                .build()
                .keepsOrder())
        .as("the caller's promise for a router")
        .isTrue();
    assertThat(SqsPublisher.builder(client).queueUrl(FIFO).keepsOrder(false).build().keepsOrder())
        .isFalse();
    assertThatThrownBy(
            () ->
                SqsPublisher.builder(client)
                    .routes(Map.of("a", FIFO, "b", STANDARD))
                    .keepsOrder(true)
                    .build())
        .hasMessageContaining("keepsOrder is true, but not every routed queue is a FIFO queue");
  }

  @Test
  void aFifoRequestCarriesOneMessagePerKeyAndEveryKeyArrivesInOrder() {
    String url = sqs.createQueue("hot", true);
    FlakySqs client = new FlakySqs(sqs.client());
    SqsPublisher publisher = SqsPublisher.builder(client).queueUrl(url).build();
    List<ClaimedEntry> batch = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      batch.add(entry("n", "hot", i));
      batch.add(entry("n", "cold-" + (i % 10), i));
      if (i % 5 == 0) {
        batch.add(entry(Message.builder().namespace("n").payload("keyless " + i).build()));
      }
    }

    publisher.publish(batch);

    for (SendMessageBatchRequest r : client.requests) {
      List<String> keys =
          r.entries().stream()
              .filter(e -> e.messageAttributes().containsKey(SqsMessages.KEY))
              .map(SendMessageBatchRequestEntry::messageGroupId)
              .toList();
      assertThat(keys).as("one message per key per request").doesNotHaveDuplicates();
    }
    assertThat(client.requests)
        .as("the hot key's 30 messages need 30 requests; the others fill them")
        .hasSize(30);
    Map<String, List<String>> got = arrivedByKey(url, batch.size());
    assertThat(got.get("n/hot")).containsExactlyElementsOf(payloads(batch, "hot"));
    for (int k = 0; k < 10; k++) {
      assertThat(got.get("n/cold-" + k)).containsExactlyElementsOf(payloads(batch, "cold-" + k));
    }
  }

  private static List<String> payloads(List<ClaimedEntry> batch, String key) {
    return batch.stream()
        .filter(e -> key.equals(e.message().keyAsString()))
        .map(e -> e.message().payloadAsString())
        .toList();
  }

  @Test
  void aFailureHoldsBackItsKeysLaterMessagesButNotAnotherKeyOfTheSameGroup() {
    String url = sqs.createQueue("one-group", true);
    SqsPublisher publisher =
        SqsPublisher.builder(new FlakySqs(sqs.client()).failMarked())
            .queueUrl(url)
            .groupIdFunction(key -> "everyone")
            .build();
    assertThat(publisher.keepsOrder()).isTrue();
    List<ClaimedEntry> batch = new ArrayList<>();
    List<Long> expectFailed = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ClaimedEntry a = entry("n", "a", i);
      if (i == 2) {
        a = failing(a);
      }
      if (i >= 2) {
        expectFailed.add(a.id());
      }
      batch.add(a);
      batch.add(entry("n", "b", i));
    }

    PublishException failure =
        catchThrowableOfType(PublishException.class, () -> publisher.publish(batch));

    assertThat(failure.failures().keySet()).containsExactlyElementsOf(expectFailed);
    assertThat(failure.failures().values()).allSatisfy(f -> assertThat(f.permanent()).isFalse());
    assertThat(failure.failureOf(expectFailed.get(1)).cause())
        .hasMessageContaining("an earlier message of its key");
    Map<String, List<String>> got = arrivedByKey(url, 8);
    assertThat(got.get("n/a")).containsExactly("a#0", "a#1");
    assertThat(got.get("n/b")).containsExactly("b#0", "b#1", "b#2", "b#3", "b#4", "b#5");
  }

  @Test
  void theSameKeyInAnotherNamespaceIsAnotherKeyAndNotHeldBack() {
    String url = sqs.createQueue("namespaces", true);
    SqsPublisher publisher =
        SqsPublisher.builder(new FlakySqs(sqs.client()).failMarked())
            .routes(Map.of("x", url, "y", url))
            .build();
    ClaimedEntry x0 = failing(entry("x", "k", 0));
    ClaimedEntry y0 = entry("y", "k", 0);
    ClaimedEntry x1 = entry("x", "k", 1);
    ClaimedEntry y1 = entry("y", "k", 1);

    PublishException failure =
        catchThrowableOfType(
            PublishException.class, () -> publisher.publish(List.of(x0, y0, x1, y1)));

    // Same FIFO group (the key), but the outbox orders (namespace, key): y/k goes on.
    assertThat(failure.failures().keySet()).containsExactly(x0.id(), x1.id());
    Map<String, List<String>> got = arrivedByKey(url, 2);
    assertThat(got).containsOnlyKeys("y/k");
    assertThat(got.get("y/k")).containsExactly("k#0", "k#1");
  }

  @Test
  void aPermanentFailureHoldsBackTheKeysLaterMessagesToo() {
    String url = sqs.createQueue("permanent", true);
    SqsPublisher publisher =
        SqsPublisher.builder(sqs.client()).queueUrl(url).maxMessageBytes(2_000).build();
    ClaimedEntry k0 = entry("n", "k", 0);
    ClaimedEntry big =
        entry(Message.builder().namespace("n").key("k").payload("x".repeat(3_000)).build());
    ClaimedEntry k2 = entry("n", "k", 2);
    ClaimedEntry j0 = entry("n", "j", 0);

    PublishException failure =
        catchThrowableOfType(
            PublishException.class, () -> publisher.publish(List.of(k0, big, k2, j0)));

    assertThat(failure.failures().keySet()).containsExactly(big.id(), k2.id());
    assertThat(failure.failureOf(big.id()).permanent()).isTrue();
    assertThat(failure.failureOf(k2.id()).permanent()).isFalse();
    Map<String, List<String>> got = arrivedByKey(url, 2);
    assertThat(got.get("n/k")).containsExactly("k#0");
    assertThat(got.get("n/j")).containsExactly("j#0");
  }

  @Test
  void aStandardQueueHoldsNothingBack() {
    String url = sqs.createQueue("standard", false);
    SqsPublisher publisher =
        SqsPublisher.builder(new FlakySqs(sqs.client()).failMarked()).queueUrl(url).build();
    ClaimedEntry k0 = failing(entry("n", "k", 0));
    ClaimedEntry k1 = entry("n", "k", 1);

    PublishException failure =
        catchThrowableOfType(PublishException.class, () -> publisher.publish(List.of(k0, k1)));

    assertThat(publisher.keepsOrder()).isFalse();
    assertThat(failure.failures().keySet()).containsExactly(k0.id());
  }
}
