package dev.outbox.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.InMemoryStorage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * Issue 11, finding 3: the values a stronger publisher contract probes come back exactly, through
 * an {@link Outbox} into ElasticMQ and out through {@link SqsMessages}, on standard and FIFO
 * queues. (What SQS cannot carry is refused at write time: see {@link SqsWriteTimeChecksTest}.)
 */
class SqsRoundTripTest {

  private static final Object TXN = new Object();
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static ElasticMq sqs;

  @BeforeAll
  static void startElasticMq() {
    sqs = ElasticMq.start();
  }

  @AfterAll
  static void stopElasticMq() {
    sqs.close();
  }

  private static Message.Builder message(String marker) {
    return Message.builder().namespace("round-trip").header("marker", marker);
  }

  private static List<Message> edgeCases() {
    byte[] zeros = {0, 0, 'a', (byte) 0xFF, 0, 0};
    byte[] large = new byte[150_000];
    Arrays.fill(large, (byte) 0x80); // not UTF-8: Base64, 200,000 bytes on SQS
    large[0] = 0;
    large[large.length - 1] = 0;
    List<Message> messages = new ArrayList<>();
    messages.add(message("empty payload, null key").payload(new byte[0]).build());
    messages.add(message("empty payload, empty key").payload(new byte[0]).key(new byte[0]).build());
    messages.add(message("text, empty key").payload("x").key("").build());
    messages.add(message("zeros at both ends").payload(zeros).key(new byte[] {0, 7, 0}).build());
    messages.add(message("nul in text").payload("\u0000a\u0000").key(" ").build());
    messages.add(message("large text").payload("ü✓".repeat(20_000)).key("k").build());
    messages.add(message("large binary").payload(large).build());
    messages.add(
        message("whitespace")
            .payload("  padded\r\n\tline\n  ")
            .key(" spaced key ")
            .header("Content-Type", "Application/JSON")
            .header("content-type", "lower case twin")
            .header("X-Mixed.Case_Name", "  leading and trailing  ")
            .header("tabs", "\tvalue\t")
            .header("lines", "one\r\ntwo\rthree\n")
            .build());
    messages.add(message("empty header value").payload("e").header("tracestate", "").build());
    messages.add(message("only spaces").payload(" ").header("blank", " ").build());
    return messages;
  }

  private static List<software.amazon.awssdk.services.sqs.model.Message> sendThroughOutbox(
      String url, SqsPublisher publisher, List<Message> messages) {
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    try (Outbox<Object> outbox =
        Outbox.builder(storage, publisher).clock(new FakeClock()).build()) {
      outbox.publish(TXN, messages);
      assertThat(outbox.pumpOutbox().published()).isEqualTo(messages.size());
    }
    return sqs.receive(url, messages.size(), WAIT);
  }

  @Test
  void edgeCasesRoundTripExactlyOnAStandardQueue() {
    String url = sqs.createQueue("edges", false);
    List<Message> messages = edgeCases();

    List<software.amazon.awssdk.services.sqs.model.Message> got =
        sendThroughOutbox(url, SqsPublisher.builder(sqs.client()).queueUrl(url).build(), messages);

    assertThat(got.stream().map(SqsMessages::toOutboxMessage))
        .containsExactlyInAnyOrderElementsOf(messages);
    for (var m : got) {
      String marker = SqsMessages.headers(m).get("marker");
      byte[] key = SqsMessages.key(m);
      if (marker.contains("null key") || marker.contains("binary") || marker.contains("header")) {
        assertThat(key).as(marker).isNull();
      }
      if (marker.contains("empty key")) {
        assertThat(key).as(marker).isNotNull().isEmpty();
      }
    }
  }

  @Test
  void edgeCasesRoundTripExactlyOnAFifoQueueWithNullAndEmptyKeysInDifferentGroups() {
    String url = sqs.createQueue("edges", true);
    List<Message> messages = edgeCases();

    List<software.amazon.awssdk.services.sqs.model.Message> got =
        sendThroughOutbox(
            url,
            SqsPublisher.builder(sqs.client()).queueUrl(url).defaultGroupId("no-key").build(),
            messages);

    assertThat(got.stream().map(SqsMessages::toOutboxMessage))
        .containsExactlyInAnyOrderElementsOf(messages);
    for (var m : got) {
      String marker = SqsMessages.headers(m).get("marker");
      String group = m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID);
      if (marker.equals("empty payload, null key")) {
        assertThat(group).isEqualTo("no-key");
      }
      if (marker.equals("empty payload, empty key")) {
        assertThat(group).isEqualTo("outbox-empty-key");
      }
    }
  }
}
