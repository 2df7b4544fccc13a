package dev.outbox.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.PumpResult;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.InMemoryStorage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * Issue 11, finding 2 (and 4): what SQS can never carry is refused by {@code Outbox.publish}, in
 * the caller's transaction, with the limit and the figure, and nothing is written; what fits
 * exactly is accepted and delivered. Every test goes through an {@link Outbox} over {@link
 * InMemoryStorage} into ElasticMQ.
 */
class SqsWriteTimeChecksTest {

  private static final Object TXN = new Object();
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String NS = "limits";

  /**
   * The bytes of the publisher's own attributes on every message in namespace {@value #NS}, as SQS
   * counts them (name + data type + value): outbox-message-id (17 + 6 + 36 for a UUID) and
   * outbox-namespace (16 + 6 + 6).
   */
  private static final int OWN_ATTRIBUTE_BYTES = (17 + 6 + 36) + (16 + 6 + NS.length());

  /** outbox-encoding = base64: 15 + 6 + 6. */
  private static final int BASE64_MARKER_BYTES = 15 + 6 + 6;

  private static final int LIMIT = SqsPublisher.Builder.DEFAULT_MAX_BYTES;

  private static ElasticMq sqs;

  @BeforeAll
  static void startElasticMq() {
    sqs = ElasticMq.start();
  }

  @AfterAll
  static void stopElasticMq() {
    sqs.close();
  }

  private static Outbox<Object> outbox(InMemoryStorage<Object> storage, SqsPublisher publisher) {
    return Outbox.builder(storage, publisher).clock(new FakeClock()).build();
  }

  private static Message.Builder message() {
    return Message.builder().namespace(NS).payload("body");
  }

  private static Message.Builder withHeaders(Message.Builder b, int count) {
    for (int i = 0; i < count; i++) {
      b.header("h" + i, "v" + i);
    }
    return b;
  }

  /** Bytes that are not UTF-8 (so sent as Base64), with zero bytes at both ends. */
  private static byte[] binary(int length) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) 0xFF);
    bytes[0] = 0;
    bytes[length - 1] = 0;
    return bytes;
  }

  @Test
  void aMessageOverSqsSizeIsRefusedAtPublishNamingTheLimitAndNothingIsWritten() {
    String url = sqs.createQueue("oversize", false);
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    try (Outbox<Object> outbox =
        outbox(storage, SqsPublisher.builder(sqs.client()).queueUrl(url).build())) {
      Message fine = message().build();
      Message oneMiB = message().payload("x".repeat(1_000_000)).build();

      assertThatThrownBy(() -> outbox.publish(TXN, fine, oneMiB))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("message 1 (namespace limits)")
          .hasMessageContaining("is " + (1_000_000 + OWN_ATTRIBUTE_BYTES) + " bytes on SQS")
          .hasMessageContaining("the limit (maxMessageBytes) is 262144");
      assertThat(storage.size()).as("nothing written, not even the fine message").isZero();
    }
  }

  @Test
  void aBinaryPayloadIsMeasuredAfterBase64() {
    String url = sqs.createQueue("base64", false);
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    try (Outbox<Object> outbox =
        outbox(storage, SqsPublisher.builder(sqs.client()).queueUrl(url).build())) {
      // 200,000 bytes: under 256 KiB raw, 266,668 after Base64.
      Message binary = message().payload(binary(200_000)).build();

      assertThatThrownBy(() -> outbox.publish(TXN, binary))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("body 266668 after Base64 of 200000 payload bytes")
          .hasMessageContaining("the limit (maxMessageBytes) is 262144");
      assertThat(storage.size()).isZero();
    }
  }

  @Test
  void elevenAttributesAreRefusedAtPublishCountingThePublishersOwn() {
    String url = sqs.createQueue("attributes", false);
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    try (Outbox<Object> outbox =
        outbox(storage, SqsPublisher.builder(sqs.client()).queueUrl(url).build())) {
      assertThatThrownBy(() -> outbox.publish(TXN, withHeaders(message(), 9).build()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(
              "has 11 attributes (9 headers + 2 set by the outbox); SQS allows 10");
      // A key and a binary payload cost two more of the publisher's own attributes.
      Message keyed = withHeaders(message(), 7).key("k").payload(binary(10)).build();
      assertThatThrownBy(() -> outbox.publish(TXN, keyed))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(
              "has 11 attributes (7 headers + 4 set by the outbox); SQS allows 10");
      assertThat(storage.size()).isZero();

      Message ten = withHeaders(message(), 6).key("k").payload(binary(10)).build();
      outbox.publish(TXN, ten);
      assertThat(outbox.pumpOutbox().published()).isEqualTo(1);
    }
    assertThat(sqs.receive(url, 1, WAIT).stream().map(SqsMessages::toOutboxMessage))
        .containsExactly(withHeaders(message(), 6).key("k").payload(binary(10)).build());
  }

  @Test
  void headerNamesSqsRefusesAreRefusedAtPublish() {
    String url = sqs.createQueue("names", false);
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    try (Outbox<Object> outbox =
        outbox(storage, SqsPublisher.builder(sqs.client()).queueUrl(url).build())) {
      Map<String, String> reasons =
          Map.of(
              "with space", "character 4 (' ') is not allowed",
              " leading", "character 0 (' ') is not allowed",
              "AWS.trace", "reserves names starting with 'AWS.'",
              "a..b", "two periods in a row",
              "outbox-entry-id", "reserved for the SQS publisher's own attributes",
              "outbox-message-id", "reserved for the SQS publisher's own attributes");
      reasons.forEach(
          (name, reason) ->
              assertThatThrownBy(() -> outbox.publish(TXN, message().header(name, "v").build()))
                  .as("header '%s'", name)
                  .isInstanceOf(IllegalArgumentException.class)
                  .hasMessageContaining("has header '" + name + "'")
                  .hasMessageContaining(reason));
      assertThatThrownBy(() -> outbox.publish(TXN, message().header("ctl", "a\u0001b").build()))
          .hasMessageContaining("header 'ctl' with character U+0001 at index 1");
      assertThat(storage.size()).isZero();
    }
  }

  @Test
  void messagesExactlyAtTheLimitAreAcceptedAndDelivered() {
    String url = sqs.createQueue("at-limit", false);
    SqsPublisher publisher = SqsPublisher.builder(sqs.client()).queueUrl(url).build();
    // Text: the body counts as its UTF-8 bytes.
    Message text = message().payload("t".repeat(LIMIT - OWN_ATTRIBUTE_BYTES)).build();
    Message textPlusOne = message().payload("t".repeat(LIMIT - OWN_ATTRIBUTE_BYTES + 1)).build();
    // Binary: the Base64 body (a multiple of 4) and the encoding marker count.
    int base64Room = LIMIT - OWN_ATTRIBUTE_BYTES - BASE64_MARKER_BYTES;
    int rawFits = base64Room / 4 * 3;
    Message bin = message().payload(binary(rawFits)).build();
    Message binPlusOne = message().payload(binary(rawFits + 1)).build();

    assertThatThrownBy(() -> publisher.checkDeliverable(textPlusOne))
        .hasMessageContaining("is " + (LIMIT + 1) + " bytes on SQS");
    assertThatThrownBy(() -> publisher.checkDeliverable(binPlusOne))
        .hasMessageContaining("the limit (maxMessageBytes) is 262144");

    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    try (Outbox<Object> outbox = outbox(storage, publisher)) {
      outbox.publish(TXN, text, bin);
      PumpResult result = outbox.pumpOutbox();
      assertThat(result.published()).as("ElasticMQ took both: " + result).isEqualTo(2);
    }
    assertThat(sqs.receive(url, 2, WAIT).stream().map(SqsMessages::toOutboxMessage))
        .containsExactlyInAnyOrder(text, bin);
  }

  @Test
  void checkDeliverableAndSendTimeAgreeOnEveryMessage() {
    String url = sqs.createQueue("agree", true);
    SqsPublisher publisher = SqsPublisher.builder(sqs.client()).queueUrl(url).build();
    int textFits = LIMIT - OWN_ATTRIBUTE_BYTES;
    int rawFits = (LIMIT - OWN_ATTRIBUTE_BYTES - BASE64_MARKER_BYTES) / 4 * 3;
    List<Message> messages =
        List.of(
            message().payload("t".repeat(textFits)).build(),
            message().payload("t".repeat(textFits + 1)).build(),
            message().payload(binary(rawFits)).build(),
            message().payload(binary(rawFits + 1)).build(),
            message().payload("ü".repeat(textFits / 2)).build(),
            message().payload("ü".repeat(textFits / 2 + 1)).build(),
            withHeaders(message(), 8).build(),
            withHeaders(message(), 9).build(),
            withHeaders(message(), 8).key("").build(),
            message().header("bad name", "v").build(),
            message().header("ok", "a\uFFFEb").build(),
            message().header("empty", "").build(),
            message().key("").payload(new byte[0]).build());
    for (Message m : messages) {
      String writeTime = null;
      try {
        publisher.checkDeliverable(m);
      } catch (IllegalArgumentException e) {
        writeTime = e.getMessage();
      }
      String sendTime = null;
      try {
        publisher.publish(List.of(SqsPublisherOutboxTest.entry(m)));
      } catch (dev.outbox.PublishException e) {
        assertThat(e.failures().values()).allMatch(dev.outbox.PublishException.Failure::permanent);
        sendTime = e.getMessage();
      }
      assertThat(writeTime == null)
          .as("%s: refused at write time (%s) iff at send time (%s)", m, writeTime, sendTime)
          .isEqualTo(sendTime == null);
    }
  }

  @Test
  void aStaticRouteIsCheckedAtPublishAndARoutingFunctionIsLeftToSendTime() {
    String url = sqs.createQueue("routes", false);
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    SqsPublisher routes = SqsPublisher.builder(sqs.client()).routes(Map.of(NS, url)).build();
    try (Outbox<Object> outbox = outbox(storage, routes)) {
      assertThatThrownBy(() -> outbox.publish(TXN, message().namespace("elsewhere").build()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no SQS queue is routed for namespace 'elsewhere'");
      assertThat(storage.size()).isZero();
    }
    SqsPublisher function =
        SqsPublisher.builder(sqs.client())
            .router(ns -> ns.equals(NS) ? Optional.of(url) : Optional.empty())
            .build();
    try (Outbox<Object> outbox = outbox(storage, function)) {
      outbox.publish(TXN, message().namespace("elsewhere").build());
      assertThat(storage.size()).isEqualTo(1);
      assertThat(outbox.pumpOutbox().deadLettered()).isEqualTo(1);
    }
  }

  @Test
  void aFifoGroupIdSqsRefusesIsRefusedAtPublishWhenTheQueueIsKnown() {
    String url = sqs.createQueue("groups", true);
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    SqsPublisher publisher =
        SqsPublisher.builder(sqs.client())
            .queueUrl(url)
            .groupIdFunction(key -> new String(key, StandardCharsets.UTF_8))
            .build();
    try (Outbox<Object> outbox = outbox(storage, publisher)) {
      assertThatThrownBy(() -> outbox.publish(TXN, message().key("has space").build()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("would have message group id 'has space'")
          .hasMessageContaining("character 3 is not allowed");
      assertThat(storage.size()).isZero();
    }
  }

  @Test
  void aTraceparentHeaderAddedAtWriteTimeBecomesExactlyOneAttribute() {
    String url = sqs.createQueue("trace", false);
    String traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    // What the OpenTelemetry module does: a decorator that sets traceparent from the context.
    UnaryOperator<Message> tracing = m -> m.toBuilder().header("traceparent", traceparent).build();
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    try (Outbox<Object> outbox =
        Outbox.builder(storage, SqsPublisher.builder(sqs.client()).queueUrl(url).build())
            .clock(new FakeClock())
            .decorateMessages(tracing)
            .build()) {
      // The decorator's header counts against the attribute limit at write time.
      assertThatThrownBy(() -> outbox.publish(TXN, withHeaders(message(), 8).build()))
          .hasMessageContaining("has 11 attributes (9 headers + 2 set by the outbox)");
      assertThat(storage.size()).isZero();

      outbox.publish(TXN, message().header("content-type", "text/plain").build());
      // A message that already has one keeps one: the decorator replaces it.
      outbox.publish(TXN, message().header("traceparent", "00-stale").build());
      assertThat(outbox.pumpOutbox().published()).isEqualTo(2);
    }
    List<software.amazon.awssdk.services.sqs.model.Message> got = sqs.receive(url, 2, WAIT);
    assertThat(got).hasSize(2);
    for (software.amazon.awssdk.services.sqs.model.Message m : got) {
      Map<String, MessageAttributeValue> attributes = m.messageAttributes();
      assertThat(attributes.keySet().stream().filter(n -> n.equalsIgnoreCase("traceparent")))
          .containsExactly("traceparent");
      assertThat(attributes.get("traceparent").stringValue()).isEqualTo(traceparent);
      assertThat(attributes.keySet())
          .allMatch(
              n -> n.startsWith("outbox-") || n.equals("traceparent") || n.equals("content-type"));
    }
  }
}
