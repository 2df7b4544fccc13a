package dev.outbox.opentelemetry;

import static dev.outbox.opentelemetry.Traces.headers;
import static dev.outbox.opentelemetry.Traces.traceparent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.Publisher;
import dev.outbox.PumpResult;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.InMemoryStorage;
import dev.outbox.testkit.RecordingPublisher;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Trace context from the request through the outbox to the publisher, on FakeClock. */
class OutboxTracingTest {

  private static final Object TXN = new Object();

  private final Traces traces = new Traces();
  private final Tracer tracer = traces.sdk.getTracer("test");
  private final FakeClock clock = new FakeClock();
  private final InMemoryStorage<Object> storage = new InMemoryStorage<>();
  private final RecordingPublisher recording = new RecordingPublisher();
  private Outbox<Object> outbox;

  @AfterEach
  void tearDown() {
    if (outbox != null) {
      outbox.close();
    }
    traces.close();
  }

  private Outbox<Object> outbox(OutboxTracing tracing, Publisher publisher) {
    outbox =
        Outbox.builder(storage, tracing.instrument(publisher))
            .processorId("p1")
            .clock(clock)
            .retryBackoff(Duration.ofSeconds(1), Duration.ofSeconds(60))
            .retryJitter(0)
            .random(new SplittableRandom(1))
            .decorateMessages(tracing.writeDecorator())
            .build();
    return outbox;
  }

  private OutboxTracing tracing() {
    return OutboxTracing.builder(traces.sdk).messagingSystem("test_broker").build();
  }

  private static Message message(String payload) {
    return Message.builder().namespace("orders").key("k").payload(payload).build();
  }

  /** Publishes inside a request span, as a web handler would; returns the request span. */
  private SpanContext publishInRequest(Message... messages) {
    Span request = tracer.spanBuilder("POST /orders").setSpanKind(SpanKind.SERVER).startSpan();
    Scope scope = request.makeCurrent();
    try {
      outbox.publish(TXN, messages);
    } finally {
      scope.close();
      request.end();
    }
    return request.getSpanContext();
  }

  @Test
  void theRequestsContextIsStoredAndTheRelaySpanIsItsChild() {
    outbox(tracing(), recording);

    SpanContext request = publishInRequest(message("m-1"));

    ClaimedEntry stored = storage.entries().get(0);
    assertThat(stored.message().headers())
        .containsExactly(Map.entry("traceparent", traceparent(request.getTraceId(), request)));

    assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(1, 1, 0, 0, 0));

    SpanData relay = traces.relaySpans().get(0);
    assertThat(traces.relaySpans()).hasSize(1);
    assertThat(relay.getKind()).isEqualTo(SpanKind.PRODUCER);
    assertThat(relay.getTraceId()).isEqualTo(request.getTraceId());
    assertThat(relay.getParentSpanId()).isEqualTo(request.getSpanId());
    assertThat(relay.getLinks()).isEmpty();
    assertThat(relay.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(relay.getAttributes().asMap())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                AttributeKey.stringKey("messaging.system"),
                "test_broker",
                AttributeKey.stringKey("messaging.operation.type"),
                "send",
                AttributeKey.stringKey("messaging.operation.name"),
                "send",
                AttributeKey.stringKey("messaging.destination.name"),
                "orders",
                AttributeKey.stringKey("messaging.message.id"),
                stored.messageId().toString(),
                AttributeKey.longKey("messaging.message.body.size"),
                3L,
                AttributeKey.longKey("outbox.entry.id"),
                stored.id(),
                AttributeKey.longKey("outbox.entry.attempts"),
                0L));
    Message sent = recording.messages().get(0);
    assertThat(sent.headers())
        .containsExactly(
            Map.entry("traceparent", traceparent(request.getTraceId(), relay.getSpanContext())));
    assertThat(sent.payloadAsString()).isEqualTo("m-1");
    assertThat(sent.keyAsString()).isEqualTo("k");
    assertThat(recording.published().get(0).messageId()).isEqualTo(stored.messageId());
  }

  @Test
  void theTraceStateTravelsWithTheContext() {
    outbox(tracing(), recording);
    SpanContext remote =
        SpanContext.createFromRemoteParent(
            "0af7651916cd43dd8448eb211c80319c",
            "b7ad6b7169203331",
            TraceFlags.getSampled(),
            TraceState.builder().put("vendor", "abc").build());
    Span request =
        tracer
            .spanBuilder("POST /orders")
            .setParent(Context.root().with(Span.wrap(remote)))
            .startSpan();
    Scope scope = request.makeCurrent();
    try {
      outbox.publish(TXN, message("m-1"));
    } finally {
      scope.close();
      request.end();
    }
    assertThat(storage.entries().get(0).message().headers())
        .containsEntry("tracestate", "vendor=abc")
        .hasSize(2);

    outbox.pumpOutbox();

    SpanData relay = traces.relaySpans().get(0);
    assertThat(recording.messages().get(0).headers())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "traceparent",
                traceparent("0af7651916cd43dd8448eb211c80319c", relay.getSpanContext()),
                "tracestate",
                "vendor=abc"));
  }

  @Test
  void aTraceContextTheCallerSetIsNeverDoubled() {
    outbox(tracing(), recording);
    String own = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    Message withOwn =
        Message.builder()
            .namespace("orders")
            .payload("m-1")
            .header("TraceParent", own) // any letter case counts
            .header("content-type", "text/plain")
            .build();

    publishInRequest(withOwn);

    assertThat(storage.entries().get(0).message().headers())
        .containsExactly(Map.entry("TraceParent", own), Map.entry("content-type", "text/plain"));

    outbox.pumpOutbox();

    SpanData relay = traces.relaySpans().get(0);
    assertThat(relay.getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(relay.getParentSpanId()).isEqualTo("00f067aa0ba902b7");
    Map<String, String> sent = recording.messages().get(0).headers();
    assertThat(headers(sent, "traceparent"))
        .containsExactly(traceparent("4bf92f3577b34da6a3ce929d0e0e4736", relay.getSpanContext()));
    assertThat(sent).containsEntry("content-type", "text/plain").hasSize(2);
  }

  @Test
  void outsideAnySpanNothingIsAddedAndTheRelaySpanStartsATrace() {
    outbox(tracing(), recording);
    Message m = Message.builder().namespace("orders").payload("m-1").header("a", "1").build();

    outbox.publish(TXN, m);

    assertThat(storage.entries().get(0).message()).isEqualTo(m);
    outbox.pumpOutbox();
    SpanData relay = traces.relaySpans().get(0);
    assertThat(relay.getParentSpanContext().isValid()).isFalse();
    assertThat(relay.getLinks()).isEmpty();
    assertThat(recording.messages())
        .as("no header the writer's checks never saw")
        .containsExactly(m);
  }

  @Test
  void anUnreadableTraceHeaderIsPassedOnAsWritten() {
    outbox(tracing(), recording);
    Message m =
        Message.builder().namespace("orders").payload("m-1").header("traceparent", "junk").build();

    publishInRequest(m);
    outbox.pumpOutbox();

    assertThat(storage.size()).isZero();
    assertThat(recording.messages()).containsExactly(m);
    assertThat(traces.relaySpans().get(0).getParentSpanContext().isValid()).isFalse();
  }

  @Test
  void withLinksTheRelaySpanIsARootLinkedToTheRequestAndTheStoredContextGoesOn() {
    OutboxTracing tracing =
        OutboxTracing.builder(traces.sdk).relation(OutboxTracing.Relation.LINK).build();
    outbox(tracing, recording);

    SpanContext request = publishInRequest(message("m-1"));
    outbox.pumpOutbox();

    SpanData relay = traces.relaySpans().get(0);
    assertThat(relay.getParentSpanContext().isValid()).isFalse();
    assertThat(relay.getTraceId()).isNotEqualTo(request.getTraceId());
    assertThat(relay.getLinks()).hasSize(1);
    assertThat(relay.getLinks().get(0).getSpanContext().getTraceId())
        .isEqualTo(request.getTraceId());
    assertThat(relay.getLinks().get(0).getSpanContext().getSpanId()).isEqualTo(request.getSpanId());
    assertThat(relay.getAttributes().get(AttributeKey.stringKey("messaging.system")))
        .isEqualTo("outbox");
    assertThat(recording.messages().get(0).headers())
        .containsExactly(Map.entry("traceparent", traceparent(request.getTraceId(), request)));
  }

  @Test
  void aMessageReleasedInAnOutageKeepsTheRequestsContext() {
    outbox(tracing(), recording);
    SpanContext request = publishInRequest(message("m-1"));
    String stored = traceparent(request.getTraceId(), request);
    recording.failAll(new IllegalStateException("broker down"));

    assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(1, 0, 0, 0, 1));

    assertThat(storage.entries().get(0).message().headers())
        .as("the stored header is never overwritten")
        .containsExactly(Map.entry("traceparent", stored));
    SpanData failed = traces.relaySpans().get(0);
    assertThat(failed.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(failed.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo(IllegalStateException.class.getName());
    assertThat(failed.getEvents()).anyMatch(e -> e.getName().equals("exception"));

    recording.succeed();
    assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(1, 1, 0, 0, 0));

    List<SpanData> relays = traces.relaySpans();
    assertThat(relays).hasSize(2);
    for (SpanData relay : relays) {
      assertThat(relay.getTraceId()).isEqualTo(request.getTraceId());
      assertThat(relay.getParentSpanId()).isEqualTo(request.getSpanId());
    }
    assertThat(recording.messages().get(0).headers())
        .containsExactly(
            Map.entry(
                "traceparent", traceparent(request.getTraceId(), relays.get(1).getSpanContext())));
  }

  @Test
  void aChargedRetryKeepsTheRequestsContextAndOnlyTheFailedSpanIsAnError() {
    outbox(tracing(), recording);
    SpanContext request = publishInRequest(message("ok"), message("flaky"));
    recording.failWhen(e -> e.message().payloadAsString().equals("flaky"));

    assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(2, 1, 1, 0, 0));

    ClaimedEntry flaky = storage.entries().get(0);
    assertThat(flaky.attempts()).isEqualTo(1);
    assertThat(flaky.message().headers())
        .containsExactly(Map.entry("traceparent", traceparent(request.getTraceId(), request)));
    List<SpanData> first = traces.relaySpans();
    assertThat(first)
        .extracting(s -> s.getAttributes().get(AttributeKey.longKey("outbox.entry.id")))
        .containsExactlyInAnyOrder(flaky.id() - 1, flaky.id());
    for (SpanData s : first) {
      boolean isFlaky =
          s.getAttributes().get(AttributeKey.longKey("outbox.entry.id")) == flaky.id();
      assertThat(s.getStatus().getStatusCode())
          .isEqualTo(isFlaky ? StatusCode.ERROR : StatusCode.UNSET);
      assertThat(s.getAttributes().get(AttributeKey.booleanKey("outbox.failure.permanent")))
          .isEqualTo(isFlaky ? Boolean.FALSE : null);
    }

    recording.succeed();
    clock.advance(Duration.ofSeconds(1)); // the retry backoff
    assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(1, 1, 0, 0, 0));

    SpanData retry = traces.relaySpans().get(2);
    assertThat(retry.getParentSpanId()).isEqualTo(request.getSpanId());
    assertThat(retry.getAttributes().get(AttributeKey.longKey("outbox.entry.attempts")))
        .isEqualTo(1L);
    Message sent = recording.messages().get(1);
    assertThat(sent.payloadAsString()).isEqualTo("flaky");
    assertThat(sent.headers())
        .containsExactly(
            Map.entry("traceparent", traceparent(request.getTraceId(), retry.getSpanContext())));
  }

  @Test
  void theInstrumentedPublisherKeepsTheWriteTimeCheck() {
    Publisher strict =
        new Publisher() {
          @Override
          public void publish(List<ClaimedEntry> entries) {}

          @Override
          public void checkDeliverable(Message message) {
            if (!Traces.headers(message.headers(), "traceparent").isEmpty()) {
              throw new IllegalArgumentException("no room for a traceparent header");
            }
          }
        };
    outbox(tracing(), strict);

    assertThatThrownBy(() -> publishInRequest(message("m-1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no room for a traceparent header");
    assertThat(storage.size()).isZero();
  }

  @Test
  void theBuilderNamesEveryBadSetting() {
    TextMapPropagator none = TextMapPropagator.noop();
    assertThatThrownBy(
            () ->
                OutboxTracing.builder(null)
                    .propagator(none)
                    .messagingSystem(" ")
                    .relation(null)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("openTelemetry must not be null")
        .hasMessageContaining("names no fields")
        .hasMessageContaining("messagingSystem must not be null or blank")
        .hasMessageContaining("relation must not be null");
    assertThatThrownBy(() -> OutboxTracing.builder(traces.sdk).propagator(null).build())
        .hasMessageContaining("propagator must not be null");
  }
}
