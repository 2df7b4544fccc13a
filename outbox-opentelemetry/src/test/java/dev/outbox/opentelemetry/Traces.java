package dev.outbox.opentelemetry;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.List;
import java.util.Map;

/** An OpenTelemetry SDK whose spans land in memory, and helpers to read trace headers. */
final class Traces implements AutoCloseable {

  final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  final OpenTelemetrySdk sdk =
      OpenTelemetrySdk.builder()
          .setTracerProvider(
              SdkTracerProvider.builder()
                  .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                  .build())
          .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
          .build();

  /** Finished spans named {@value OutboxTracing#SPAN_NAME}, in the order they ended. */
  List<SpanData> relaySpans() {
    return exporter.getFinishedSpanItems().stream()
        .filter(s -> s.getName().equals(OutboxTracing.SPAN_NAME))
        .toList();
  }

  /** The W3C traceparent naming {@code span} (its id and flags) in trace {@code traceId}. */
  static String traceparent(String traceId, SpanContext span) {
    return "00-" + traceId + "-" + span.getSpanId() + "-" + span.getTraceFlags().asHex();
  }

  /** The values of every header named {@code name} in any letter case. */
  static List<String> headers(Map<String, String> headers, String name) {
    return headers.entrySet().stream()
        .filter(e -> e.getKey().equalsIgnoreCase(name))
        .map(Map.Entry::getValue)
        .toList();
  }

  @Override
  public void close() {
    sdk.close();
  }
}
