package dev.outbox.sqs;

import static dev.outbox.sqs.SqsPublisherOutboxTest.entry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/** What SQS cannot carry fails alone, with a reason naming the limit; the rest round-trips. */
class SqsPublisherLimitsTest {

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

  private static Message.Builder message() {
    return Message.builder().namespace("limits").payload("body");
  }

  @Test
  void headersSqsCannotCarryFailAloneWithAReasonNamingTheRule() {
    String url = sqs.createQueue("headers", false);
    SqsPublisher publisher = SqsPublisher.builder(sqs.client()).queueUrl(url).build();
    Map<String, String> badHeaders = new LinkedHashMap<>();
    badHeaders.put("with space", "only A-Z a-z 0-9 _ - .");
    badHeaders.put("AWS.trace", "reserves names starting with 'AWS.'");
    badHeaders.put("amazon.x", "reserves names starting with 'AWS.' and 'Amazon.'");
    badHeaders.put(".lead", "must not start or end with a period");
    badHeaders.put("trail.", "must not start or end with a period");
    badHeaders.put("a..b", "two periods in a row");
    badHeaders.put("n".repeat(257), "257 characters; SQS allows 256");
    badHeaders.put(SqsMessages.MESSAGE_ID, "reserved for the SQS publisher's own attributes");
    List<ClaimedEntry> batch = new ArrayList<>();
    Map<Long, String> expected = new LinkedHashMap<>();
    badHeaders.forEach(
        (name, reason) -> {
          ClaimedEntry e = entry(message().header(name, "v").build());
          batch.add(e);
          expected.put(e.id(), reason);
        });
    ClaimedEntry tooMany = entry(headers(message(), 9).build());
    expected.put(
        tooMany.id(), "has 11 attributes (9 headers + 2 set by the outbox); SQS allows 10");
    ClaimedEntry emptyValue = entry(message().header("empty", "").build());
    ClaimedEntry controlChar = entry(message().header("ctl", "a\u0001b").build());
    expected.put(controlChar.id(), "character U+0001");
    ClaimedEntry exactlyTen = entry(headers(message(), 8).build());
    ClaimedEntry fine = entry(message().header("Good_name.with-dots", "ok").build());
    batch.addAll(List.of(tooMany, emptyValue, controlChar, exactlyTen, fine));

    PublishException failure =
        catchThrowableOfType(PublishException.class, () -> publisher.publish(batch));

    assertThat(failure.failures().keySet()).containsExactlyElementsOf(expected.keySet());
    expected.forEach(
        (id, reason) -> {
          PublishException.Failure f = failure.failureOf(id);
          assertThat(f.permanent()).isTrue();
          assertThat(f.cause().getMessage()).contains("message " + id).contains(reason);
        });
    List<software.amazon.awssdk.services.sqs.model.Message> got = sqs.receive(url, 3, WAIT);
    assertThat(got.stream().map(SqsMessages::toOutboxMessage))
        .containsExactlyInAnyOrder(exactlyTen.message(), fine.message(), emptyValue.message());
  }

  private static Message.Builder headers(Message.Builder b, int count) {
    for (int i = 0; i < count; i++) {
      b.header("h" + i, "v" + i);
    }
    return b;
  }

  @Test
  void payloadsKeysAndEmptyValuesRoundTripExactly() {
    String url = sqs.createQueue("roundtrip", false);
    SqsPublisher publisher = SqsPublisher.builder(sqs.client()).queueUrl(url).build();
    List<Message> messages =
        List.of(
            message().payload("plain text ✓ 𝄞").key("k").build(),
            message().payload(new byte[] {(byte) 0xC3, (byte) 0x28}).build(), // invalid UTF-8
            message().payload("nul \u0000 and \uFFFE are not XML").build(),
            message().payload(new byte[0]).key(new byte[0]).build(),
            message().key(new byte[] {0, (byte) 0xFF, 7}).build());
    List<ClaimedEntry> batch = messages.stream().map(SqsPublisherOutboxTest::entry).toList();

    publisher.publish(batch);

    List<software.amazon.awssdk.services.sqs.model.Message> got =
        sqs.receive(url, messages.size(), WAIT);
    assertThat(got.stream().map(SqsMessages::toOutboxMessage))
        .containsExactlyInAnyOrderElementsOf(messages);
    Map<String, String> encodings = new LinkedHashMap<>();
    for (software.amazon.awssdk.services.sqs.model.Message m : got) {
      var enc = m.messageAttributes().get(SqsMessages.ENCODING);
      encodings.put(
          new String(SqsMessages.payload(m), StandardCharsets.UTF_8),
          enc == null ? "text" : enc.stringValue());
    }
    assertThat(encodings)
        .containsEntry("plain text ✓ 𝄞", "text")
        .containsEntry("nul \u0000 and \uFFFE are not XML", SqsMessages.BASE64)
        .containsEntry("", SqsMessages.EMPTY);
  }

  @Test
  void fifoGroupIdsComeFromTheKeyOrTheDefaultAndBadOnesFailAlone() {
    String url = sqs.createQueue("groups", true);
    SqsPublisher publisher =
        SqsPublisher.builder(sqs.client()).queueUrl(url).defaultGroupId("no-key").build();
    ClaimedEntry ascii = entry(message().key("customer-42").build());
    ClaimedEntry unicode = entry(message().key("Grüße").build());
    ClaimedEntry none = entry(message().build());

    publisher.publish(List.of(ascii, unicode, none));

    Map<UUID, String> groups = new LinkedHashMap<>();
    for (var m : sqs.receive(url, 3, WAIT)) {
      groups.put(
          SqsMessages.messageId(m),
          m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID));
    }
    assertThat(groups.get(ascii.messageId())).isEqualTo("customer-42");
    assertThat(groups.get(unicode.messageId())).startsWith("sha256-").hasSize(7 + 64);
    assertThat(groups.get(none.messageId())).isEqualTo("no-key");

    SqsPublisher badGroups =
        SqsPublisher.builder(sqs.client())
            .queueUrl(url)
            .groupIdFunction(key -> new String(key, StandardCharsets.UTF_8))
            .build();
    ClaimedEntry spaced = entry(message().key("has space").build());
    ClaimedEntry ok = entry(message().key("fine").build());
    PublishException failure =
        catchThrowableOfType(PublishException.class, () -> badGroups.publish(List.of(spaced, ok)));
    assertThat(failure.failures().keySet()).containsExactly(spaced.id());
    assertThat(failure.failureOf(spaced.id()).permanent()).isTrue();
    assertThat(failure.failureOf(spaced.id()).cause())
        .hasMessageContaining("FIFO message group id 'has space'");
    assertThat(sqs.receive(url, 1, WAIT).stream().map(SqsMessages::messageId))
        .containsExactly(ok.messageId());
  }

  @Test
  void aRouterThatFindsNoQueueFailsOnlyThatNamespacePermanently() {
    String url = sqs.createQueue("routed", false);
    SqsPublisher publisher =
        SqsPublisher.builder(sqs.client())
            .router(ns -> ns.equals("limits") ? Optional.of(url) : Optional.empty())
            .build();
    ClaimedEntry routed = entry(message().build());
    ClaimedEntry lost = entry(message().namespace("elsewhere").build());

    PublishException failure =
        catchThrowableOfType(
            PublishException.class, () -> publisher.publish(List.of(lost, routed)));

    assertThat(failure.failures().keySet()).containsExactly(lost.id());
    assertThat(failure.failureOf(lost.id()).permanent()).isTrue();
    assertThat(failure.failureOf(lost.id()).cause())
        .hasMessageContaining("no SQS queue is routed for namespace 'elsewhere'");
    assertThat(sqs.receive(url, 1, WAIT).stream().map(SqsMessages::messageId))
        .containsExactly(routed.messageId());
  }

  @Test
  void buildNamesEveryBadSetting() {
    assertThatThrownBy(
            () ->
                SqsPublisher.builder(sqs.client())
                    .queueUrl("http://q")
                    .routes(Map.of("a", "http://a"))
                    .maxMessageBytes(0)
                    .maxBatchBytes(2_000_000)
                    .maxBatchEntries(11)
                    .maxInFlightRequests(0)
                    .defaultGroupId("has space")
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("exactly one routing rule")
        .hasMessageContaining("maxMessageBytes is 0; allowed 1 to 1048576")
        .hasMessageContaining("maxBatchBytes is 2000000; allowed 1 to 1048576")
        .hasMessageContaining("maxBatchEntries is 11; allowed 1 to 10")
        .hasMessageContaining("maxInFlightRequests is 0; allowed 1 to 1024")
        .hasMessageContaining("defaultGroupId is 'has space'");
    assertThatThrownBy(() -> SqsPublisher.builder(sqs.client()).build())
        .hasMessageContaining("none is set");
    assertThatThrownBy(
            () ->
                SqsPublisher.builder(sqs.client())
                    .queueUrl("http://q")
                    .maxMessageBytes(200_000)
                    .maxBatchBytes(100_000)
                    .build())
        .hasMessageContaining("maxBatchBytes is 100000; it must be at least maxMessageBytes");
  }
}
