package dev.outbox.opentelemetry;

import static dev.outbox.opentelemetry.Traces.traceparent;
import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.Publisher;
import dev.outbox.PumpResult;
import dev.outbox.sqs.ElasticMq;
import dev.outbox.sqs.SqsPublisher;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.InMemoryStorage;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * A request span, {@code publish} inside it, the relay to ElasticMQ over the real SQS protocol: the
 * message a consumer receives carries the request's trace, through retries too.
 */
class OutboxTracingSqsTest {

  private static final Object TXN = new Object();
  private static final Duration WAIT = Duration.ofSeconds(20);

  private static ElasticMq sqs;

  private final Traces traces = new Traces();
  private final Tracer tracer = traces.sdk.getTracer("test");
  private final FakeClock clock = new FakeClock();
  private final InMemoryStorage<Object> storage = new InMemoryStorage<>();

  @BeforeAll
  static void startElasticMq() {
    sqs = ElasticMq.start();
  }

  @AfterAll
  static void stopElasticMq() {
    sqs.close();
  }

  @AfterEach
  void closeSdk() {
    traces.close();
  }

  private SpanContext publishInRequest(Outbox<Object> outbox, String payload) {
    Span request = tracer.spanBuilder("POST /orders").setSpanKind(SpanKind.SERVER).startSpan();
    Scope scope = request.makeCurrent();
    try {
      outbox.publish(TXN, Message.builder().namespace("orders").payload(payload).build());
    } finally {
      scope.close();
      request.end();
    }
    return request.getSpanContext();
  }

  private static Map<String, String> traceAttributes(
      software.amazon.awssdk.services.sqs.model.Message m) {
    return m.messageAttributes().entrySet().stream()
        .filter(
            e ->
                e.getKey().equalsIgnoreCase("traceparent")
                    || e.getKey().equalsIgnoreCase("tracestate"))
        .collect(
            java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().stringValue()));
  }

  @Test
  void theConsumerReceivesTheRequestsTraceBelowTheRelaySpan() {
    String queueUrl = sqs.createQueue("traced", false);
    OutboxTracing tracing = OutboxTracing.builder(traces.sdk).messagingSystem("aws_sqs").build();
    Publisher sqsPublisher =
        SqsPublisher.builder(sqs.client()).routes(Map.of("orders", queueUrl)).build();
    try (Outbox<Object> outbox =
        Outbox.builder(storage, tracing.instrument(sqsPublisher))
            .clock(clock)
            .decorateMessages(tracing.writeDecorator())
            .build()) {
      SpanContext request = publishInRequest(outbox, "order 1");

      assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(1, 1, 0, 0, 0));

      List<software.amazon.awssdk.services.sqs.model.Message> received =
          sqs.receive(queueUrl, 1, WAIT);
      assertThat(received).hasSize(1);
      SpanData relay = traces.relaySpans().get(0);
      assertThat(relay.getKind()).isEqualTo(SpanKind.PRODUCER);
      assertThat(relay.getTraceId()).isEqualTo(request.getTraceId());
      assertThat(relay.getParentSpanId()).isEqualTo(request.getSpanId());
      assertThat(relay.getAttributes().get(AttributeKey.stringKey("messaging.system")))
          .isEqualTo("aws_sqs");
      assertThat(relay.getAttributes().get(AttributeKey.stringKey("messaging.destination.name")))
          .isEqualTo("orders");
      assertThat(traceAttributes(received.get(0)))
          .as("exactly one traceparent, the relay span's, in the request's trace")
          .containsExactly(
              Map.entry("traceparent", traceparent(request.getTraceId(), relay.getSpanContext())));
      MessageAttributeValue tp = received.get(0).messageAttributes().get("traceparent");
      assertThat(tp.dataType()).isEqualTo("String");
      assertThat(received.get(0).body()).isEqualTo("order 1");
    }
  }

  @Test
  void aMessageRetriedAfterAnOutageKeepsTheRequestsTrace() {
    String queueUrl = sqs.createQueue("traced", false);
    OutboxTracing tracing = OutboxTracing.builder(traces.sdk).messagingSystem("aws_sqs").build();
    Publisher sqsPublisher =
        SqsPublisher.builder(sqs.client()).routes(Map.of("orders", queueUrl)).build();
    AtomicInteger calls = new AtomicInteger();
    Publisher downOnce =
        entries -> {
          if (calls.incrementAndGet() == 1) {
            throw new IllegalStateException("SQS unreachable");
          }
          sqsPublisher.publish(entries);
        };
    try (Outbox<Object> outbox =
        Outbox.builder(storage, tracing.instrument(downOnce))
            .clock(clock)
            .decorateMessages(tracing.writeDecorator())
            .build()) {
      SpanContext request = publishInRequest(outbox, "order 2");
      String stored = traceparent(request.getTraceId(), request);

      assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(1, 0, 0, 0, 1));
      assertThat(storage.entries().get(0).message().headers())
          .containsExactly(Map.entry("traceparent", stored));

      assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(1, 1, 0, 0, 0));

      List<software.amazon.awssdk.services.sqs.model.Message> received =
          sqs.receive(queueUrl, 1, WAIT);
      assertThat(received).hasSize(1);
      List<SpanData> relays = traces.relaySpans();
      assertThat(relays).hasSize(2);
      assertThat(relays.get(0).getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
      assertThat(relays.get(1).getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
      for (SpanData relay : relays) {
        assertThat(relay.getTraceId()).isEqualTo(request.getTraceId());
        assertThat(relay.getParentSpanId()).isEqualTo(request.getSpanId());
      }
      assertThat(traceAttributes(received.get(0)))
          .containsExactly(
              Map.entry(
                  "traceparent",
                  traceparent(request.getTraceId(), relays.get(1).getSpanContext())));
    }
  }
}
