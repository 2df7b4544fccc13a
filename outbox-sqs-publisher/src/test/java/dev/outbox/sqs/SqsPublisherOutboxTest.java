package dev.outbox.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.PublishException;
import dev.outbox.PumpResult;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.InMemoryStorage;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/** End to end: through {@link Outbox} over the testkit's {@link InMemoryStorage} into ElasticMQ. */
class SqsPublisherOutboxTest {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Object TXN = new Object();
  private static final AtomicLong IDS = new AtomicLong(5_000_000);

  private static ElasticMq sqs;

  @BeforeAll
  static void startElasticMq() {
    sqs = ElasticMq.start();
  }

  @AfterAll
  static void stopElasticMq() {
    sqs.close();
  }

  @Test
  void standardAndFifoQueuesReceiveEveryMessageWithAttributesAndGroupOrder() {
    String ordersUrl = sqs.createQueue("orders", false);
    String ledgerUrl = sqs.createQueue("ledger", true);
    SqsPublisher publisher =
        SqsPublisher.builder(sqs.client())
            .routes(Map.of("orders", ordersUrl, "ledger", ledgerUrl))
            .build();
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    List<Message> orders = new ArrayList<>();
    List<Message> ledger = new ArrayList<>();
    try (Outbox<Object> outbox =
        Outbox.builder(storage, publisher).clock(new FakeClock()).batchSize(45).build()) {
      for (int i = 0; i < 60; i++) {
        // Interleave namespaces and four FIFO groups so batches mix groups.
        if (i % 3 == 0) {
          Message m =
              Message.builder()
                  .namespace("orders")
                  .key("order-" + i)
                  .payload("{\"order\":" + i + "}")
                  .header("content-type", "application/json")
                  .header("traceparent", "00-" + i)
                  .build();
          orders.add(m);
          outbox.publish(TXN, m);
        } else {
          String group = "account-" + (i % 4);
          Message m =
              Message.builder()
                  .namespace("ledger")
                  .key(group)
                  .payload("posting " + i + " of " + group)
                  .header("seq", Integer.toString(i))
                  .build();
          ledger.add(m);
          outbox.publish(TXN, m);
        }
      }

      PumpResult result = outbox.pumpOutbox();

      assertThat(result.published()).isEqualTo(60);
      assertThat(result.failed()).isZero();
      assertThat(storage.size()).as("outbox empty").isZero();
    }

    List<software.amazon.awssdk.services.sqs.model.Message> gotOrders =
        sqs.receive(ordersUrl, orders.size(), WAIT);
    assertThat(gotOrders.stream().map(SqsMessages::toOutboxMessage).toList())
        .containsExactlyInAnyOrderElementsOf(orders);
    assertThat(gotOrders.stream().map(SqsMessages::messageId).distinct()).hasSize(orders.size());
    assertThat(gotOrders)
        .allSatisfy(
            m ->
                assertThat(m.messageAttributes().keySet())
                    .doesNotContain("outbox-entry-id")
                    .contains(SqsMessages.MESSAGE_ID));

    List<software.amazon.awssdk.services.sqs.model.Message> gotLedger =
        sqs.receive(ledgerUrl, ledger.size(), WAIT);
    assertThat(gotLedger.stream().map(SqsMessages::toOutboxMessage).toList())
        .containsExactlyInAnyOrderElementsOf(ledger);
    Map<String, List<Integer>> seqByGroup = new LinkedHashMap<>();
    for (software.amazon.awssdk.services.sqs.model.Message m : gotLedger) {
      String group = m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID);
      assertThat(group)
          .isEqualTo(new String(SqsMessages.key(m), java.nio.charset.StandardCharsets.UTF_8));
      assertThat(m.attributes().get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID))
          .isEqualTo(SqsMessages.messageId(m).toString());
      seqByGroup
          .computeIfAbsent(group, g -> new ArrayList<>())
          .add(Integer.parseInt(SqsMessages.headers(m).get("seq")));
    }
    assertThat(seqByGroup).hasSize(4);
    seqByGroup.forEach((group, seqs) -> assertThat(seqs).as("order of %s", group).isSorted());
  }

  @Test
  void aMixedBatchReportsExactlyTheFailedEntriesAndSendsTheRest() {
    String ordersUrl = sqs.createQueue("mixed", false);
    SqsPublisher publisher =
        SqsPublisher.builder(sqs.client())
            .routes(Map.of("orders", ordersUrl, "gone", sqs.missingQueueUrl()))
            .build();
    List<ClaimedEntry> batch = new ArrayList<>();
    Map<Long, String> expectedReason = new HashMap<>();
    List<UUID> good = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      ClaimedEntry e;
      switch (i % 6) {
        case 1 -> {
          e = entry(Message.builder().namespace("orders").payload(new byte[270_000]).build());
          expectedReason.put(e.id(), "maxMessageBytes");
        }
        case 3 -> {
          e = entry(Message.builder().namespace("gone").payload("lost " + i).build());
          expectedReason.put(e.id(), "QueueDoesNotExist");
        }
        case 5 -> {
          e = entry(Message.builder().namespace("unknown").payload("where " + i).build());
          expectedReason.put(e.id(), "no SQS queue is routed for namespace 'unknown'");
        }
        default -> {
          e = entry(Message.builder().namespace("orders").payload("fine " + i).build());
          good.add(e.messageId());
        }
      }
      batch.add(e);
    }

    PublishException failure =
        catchThrowableOfType(PublishException.class, () -> publisher.publish(batch));

    assertThat(failure).isNotNull();
    assertThat(failure.failures().keySet())
        .containsExactlyInAnyOrderElementsOf(expectedReason.keySet());
    failure
        .failures()
        .forEach(
            (id, f) -> {
              assertThat(f.permanent()).as("entry %d permanent", id).isTrue();
              assertThat(f.cause()).isInstanceOf(SqsEntryException.class);
              String text =
                  f.cause().getMessage() + " " + ((SqsEntryException) f.cause()).errorCode();
              assertThat(text).as("reason of %d", id).contains(expectedReason.get(id));
            });
    List<UUID> received =
        sqs.receive(ordersUrl, good.size(), WAIT).stream().map(SqsMessages::messageId).toList();
    assertThat(received).containsExactlyInAnyOrderElementsOf(good);
  }

  @Test
  void permanentFailuresBecomeDeadLettersAndTheRestIsReceived() {
    String ordersUrl = sqs.createQueue("dead", false);
    SqsPublisher publisher =
        SqsPublisher.builder(sqs.client())
            .routes(Map.of("orders", ordersUrl, "gone", sqs.missingQueueUrl()))
            .build();
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    List<String> goodPayloads = new ArrayList<>();
    try (Outbox<Object> outbox =
        Outbox.builder(storage, publisher).clock(new FakeClock()).maxAttempts(5).build()) {
      List<Message> unsendable = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        Message.Builder m = Message.builder().namespace("orders").payload("ok " + i);
        if (i == 2) {
          unsendable.add(m.payload(new byte[300_000]).build());
        } else if (i == 5) {
          outbox.publish(TXN, m.namespace("gone").build()); // known route, missing queue
        } else if (i == 7) {
          for (int h = 0; h < 9; h++) {
            m.header("h" + h, "v");
          }
          unsendable.add(m.build());
        } else if (i == 9) {
          unsendable.add(m.header("bad name", "v").build());
        } else {
          goodPayloads.add("ok " + i);
          outbox.publish(TXN, m.build());
        }
      }
      // Rows Outbox.publish now refuses (written by an older version, or for another publisher
      // configuration) still fail alone, permanently, when they are sent.
      storage.publish(TXN, FakeClock.DEFAULT_START, unsendable);

      PumpResult result = outbox.pumpOutbox();

      assertThat(result.published()).isEqualTo(goodPayloads.size());
      assertThat(result.deadLettered()).isEqualTo(4);
      assertThat(storage.size()).isZero();
      List<DeadLetter> dead = outbox.deadLetters().list(10);
      assertThat(dead).hasSize(4);
      assertThat(dead.stream().map(DeadLetter::lastError).toList())
          .anySatisfy(e -> assertThat(e).contains("the limit (maxMessageBytes) is 262144"))
          .anySatisfy(e -> assertThat(e).contains("QueueDoesNotExist"))
          .anySatisfy(e -> assertThat(e).contains("has 11 attributes").contains("SQS allows 10"))
          .anySatisfy(e -> assertThat(e).contains("header 'bad name'"));
    }
    List<String> got =
        sqs.receive(ordersUrl, goodPayloads.size(), WAIT).stream()
            .map(m -> new String(SqsMessages.payload(m), java.nio.charset.StandardCharsets.UTF_8))
            .toList();
    assertThat(got).containsExactlyInAnyOrderElementsOf(goodPayloads);
  }

  @Test
  void aRedeliveredFifoEntryIsDeduplicatedBySqs() {
    String url = sqs.createQueue("dedup", true);
    SqsPublisher publisher = SqsPublisher.builder(sqs.client()).queueUrl(url).build();
    ClaimedEntry e = entry(Message.builder().namespace("x").key("k").payload("once").build());

    publisher.publish(List.of(e));
    publisher.publish(List.of(e)); // a crash between publish and delete, then a retry

    assertThat(sqs.receive(url, 1, WAIT)).hasSize(1);
    assertThat(sqs.drain(url)).isEmpty();
  }

  @Test
  void aBatchTheServerRefusesAsTooLongIsResentOneByOne() {
    // The publisher believes SQS's 1 MiB limits; ElasticMQ keeps the old 256 KiB ones.
    String url = sqs.createQueue("split", false);
    SqsPublisher publisher =
        SqsPublisher.builder(sqs.client())
            .queueUrl(url)
            .maxMessageBytes(SqsPublisher.Builder.SQS_MAX_BYTES)
            .maxBatchBytes(SqsPublisher.Builder.SQS_MAX_BYTES)
            .build();
    List<ClaimedEntry> batch = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      batch.add(entry(Message.builder().namespace("x").payload("a".repeat(100_000)).build()));
    }
    ClaimedEntry tooLong =
        entry(Message.builder().namespace("x").payload("b".repeat(300_000)).build());
    batch.add(tooLong);

    PublishException failure =
        catchThrowableOfType(PublishException.class, () -> publisher.publish(batch));

    assertThat(failure.failures().keySet()).containsExactly(tooLong.id());
    assertThat(failure.failureOf(tooLong.id()).permanent()).isTrue();
    assertThat(sqs.receive(url, 3, WAIT).stream().map(SqsMessages::messageId))
        .containsExactlyInAnyOrderElementsOf(messageIds(batch.subList(0, 3)));
  }

  @Test
  void anUnreachableEndpointFailsEveryEntryRetryably() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    try (SqsAsyncClient client = ElasticMq.client(URI.create("http://127.0.0.1:" + closedPort))) {
      SqsPublisher publisher =
          SqsPublisher.builder(client)
              .queueUrl("http://127.0.0.1:" + closedPort + "/000000000000/q")
              .build();
      List<ClaimedEntry> batch = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        batch.add(entry(Message.builder().namespace("x").payload("p" + i).build()));
      }

      PublishException failure =
          catchThrowableOfType(PublishException.class, () -> publisher.publish(batch));

      assertThat(failure.failures().keySet())
          .containsExactlyElementsOf(batch.stream().map(ClaimedEntry::id).toList());
      assertThat(failure.failures().values()).noneMatch(PublishException.Failure::permanent);
      assertThat(failure.failures().values())
          .allSatisfy(
              f ->
                  assertThat(f.cause())
                      .isInstanceOf(SqsEntryException.class)
                      .hasCauseInstanceOf(SdkClientException.class));
    }
  }

  static ClaimedEntry entry(Message m) {
    return ClaimedEntry.builder()
        .id(IDS.incrementAndGet())
        .messageId(UUID.randomUUID())
        .message(m)
        .createdAt(FakeClock.DEFAULT_START)
        .build();
  }

  private static List<UUID> messageIds(List<ClaimedEntry> entries) {
    return entries.stream().map(ClaimedEntry::messageId).toList();
  }
}
