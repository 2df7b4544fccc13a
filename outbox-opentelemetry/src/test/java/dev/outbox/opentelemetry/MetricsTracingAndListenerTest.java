package dev.outbox.opentelemetry;

import static dev.outbox.opentelemetry.Traces.traceparent;
import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.OutboxListener;
import dev.outbox.PumpResult;
import dev.outbox.micrometer.OutboxMetrics;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.InMemoryStorage;
import dev.outbox.testkit.RecordingPublisher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Metrics, tracing and the user's own listener on one outbox: each hears every event, none wraps
 * another, and the publisher wrappers stack.
 */
class MetricsTracingAndListenerTest {

  private static final Object TXN = new Object();

  @Test
  void allThreeListenAtOnce() {
    FakeClock clock = new FakeClock();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    RecordingPublisher recording = new RecordingPublisher();
    recording.beforePublish(batch -> clock.advance(Duration.ofMillis(25)));
    List<String> heard = new CopyOnWriteArrayList<>();
    List<Message> written = new CopyOnWriteArrayList<>();
    List<ClaimedEntry> published = new CopyOnWriteArrayList<>();
    OutboxListener mine =
        new OutboxListener() {
          @Override
          public void onWritten(List<Message> messages) {
            heard.add("written " + messages.size());
            written.addAll(messages);
          }

          @Override
          public void onPublished(List<ClaimedEntry> entries) {
            heard.add("published " + entries.size());
            published.addAll(entries);
          }

          @Override
          public void onBatch(
              int claimed, int publishedCount, int failed, int deadLettered, Duration took) {
            heard.add("batch " + claimed + " took " + took.toMillis() + " ms");
          }
        };

    try (Traces traces = new Traces();
        OutboxMetrics metrics = OutboxMetrics.builder(registry, "orders").clock(clock).build()) {
      OutboxTracing tracing = OutboxTracing.builder(traces.sdk).build();
      try (Outbox<Object> outbox =
          Outbox.builder(storage, metrics.instrument(tracing.instrument(recording)))
              .clock(clock)
              .decorateMessages(tracing.writeDecorator())
              .listener(metrics)
              .listener(mine)
              .build()) {
        metrics.monitor(outbox);
        Span request = traces.sdk.getTracer("test").spanBuilder("POST /orders").startSpan();
        Scope scope = request.makeCurrent();
        try {
          outbox.publish(TXN, Message.builder().namespace("orders").payload("m-1").build());
        } finally {
          scope.close();
          request.end();
        }
        clock.advance(Duration.ofSeconds(2));

        assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(1, 1, 0, 0, 0));

        SpanContext req = request.getSpanContext();
        String stored = traceparent(req.getTraceId(), req);
        // The user's listener: every event, with the stored (request's) context.
        assertThat(heard).containsExactly("written 1", "published 1", "batch 1 took 25 ms");
        assertThat(written.get(0).headers()).containsEntry("traceparent", stored);
        assertThat(published.get(0).message().headers()).containsEntry("traceparent", stored);
        // Metrics: the same events, and the publisher call through both wrappers.
        assertThat(registry.get("outbox.messages.published").counter().count()).isEqualTo(1);
        assertThat(registry.get("outbox.messages.latency").timer().totalTime(TimeUnit.MILLISECONDS))
            .isEqualTo(2025);
        assertThat(
                registry.get("outbox.publish.duration").tag("outcome", "success").timer().count())
            .isEqualTo(1);
        assertThat(registry.get("outbox.batch.duration").timer().count()).isEqualTo(1);
        // Tracing: the relay span under the request, its context on the wire.
        SpanData relay = traces.relaySpans().get(0);
        assertThat(relay.getParentSpanId()).isEqualTo(req.getSpanId());
        assertThat(recording.messages().get(0).headers())
            .containsEntry("traceparent", traceparent(req.getTraceId(), relay.getSpanContext()));
      }
    }
  }
}
