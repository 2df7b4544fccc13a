package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.PumpResult;
import dev.outbox.opentelemetry.OutboxTracing;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.InMemoryStorage;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

/**
 * The tracing flow of {@code outbox-opentelemetry} through the real broker: a request span, {@code
 * publish} inside it, the relay by {@link KafkaPublisher}: the consumed record carries exactly one
 * {@code traceparent}, in the request's trace, naming the relay span.
 */
class KafkaTracingTest {

  private static final Object TXN = new Object();

  @Test
  void theConsumedRecordCarriesTheRequestsTraceBelowTheRelaySpan() {
    InMemorySpanExporter exporter = InMemorySpanExporter.create();
    try (OpenTelemetrySdk otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                    .build())
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build()) {
      TestBroker broker = TestBroker.shared();
      String topic = broker.createTopic("traced");
      OutboxTracing tracing = OutboxTracing.builder(otel).messagingSystem("kafka").build();
      InMemoryStorage<Object> storage = new InMemoryStorage<>();
      try (KafkaPublisher kafka =
              KafkaPublisher.builder(broker.producerConfig()).topic(topic).build();
          Outbox<Object> outbox =
              Outbox.builder(storage, tracing.instrument(kafka))
                  .clock(new FakeClock())
                  .decorateMessages(tracing.writeDecorator())
                  .build()) {
        Span request =
            otel.getTracer("test")
                .spanBuilder("POST /orders")
                .setSpanKind(SpanKind.SERVER)
                .startSpan();
        try (Scope ignored = request.makeCurrent()) {
          outbox.publish(
              TXN, Message.builder().namespace("orders").key("order-7").payload("paid").build());
        } finally {
          request.end();
        }
        SpanContext req = request.getSpanContext();
        UUID messageId = storage.entries().get(0).messageId();
        assertThat(storage.entries().get(0).message().headers())
            .as("the stored message carries the request's context")
            .containsKey("traceparent");

        assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(1, 1, 0, 0, 0));

        List<ConsumerRecord<byte[], byte[]>> records =
            broker.readAll(topic, 1, Duration.ofSeconds(30));
        assertThat(records).hasSize(1);
        SpanData relay =
            exporter.getFinishedSpanItems().stream()
                .filter(s -> s.getKind() == SpanKind.PRODUCER)
                .findFirst()
                .orElseThrow();
        assertThat(relay.getTraceId()).isEqualTo(req.getTraceId());
        assertThat(relay.getParentSpanId()).isEqualTo(req.getSpanId());
        List<String> traceparents =
            java.util.stream.StreamSupport.stream(
                    records.get(0).headers().headers("traceparent").spliterator(), false)
                .map(Header::value)
                .map(v -> new String(v, StandardCharsets.UTF_8))
                .toList();
        assertThat(traceparents)
            .as("exactly one traceparent: the relay span's, in the request's trace")
            .containsExactly(
                "00-"
                    + req.getTraceId()
                    + "-"
                    + relay.getSpanId()
                    + "-"
                    + relay.getSpanContext().getTraceFlags().asHex());
        assertThat(new String(records.get(0).value(), StandardCharsets.UTF_8)).isEqualTo("paid");
        assertThat(KafkaRecords.messageId(records.get(0))).isEqualTo(messageId);
      }
    }
  }
}
