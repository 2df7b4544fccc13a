package dev.outbox.opentelemetry;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Publishes each entry inside a relay span and hands the wrapped publisher entries that carry
 * exactly one trace context. The stored entries are never changed: the copies live for one call.
 * Made by {@link OutboxTracing#instrument}.
 */
final class TracingPublisher implements Publisher {

  static final AttributeKey<String> MESSAGING_SYSTEM = AttributeKey.stringKey("messaging.system");
  static final AttributeKey<String> OPERATION_TYPE =
      AttributeKey.stringKey("messaging.operation.type");
  static final AttributeKey<String> OPERATION_NAME =
      AttributeKey.stringKey("messaging.operation.name");
  static final AttributeKey<String> DESTINATION =
      AttributeKey.stringKey("messaging.destination.name");
  static final AttributeKey<String> MESSAGE_ID = AttributeKey.stringKey("messaging.message.id");
  static final AttributeKey<Long> BODY_SIZE = AttributeKey.longKey("messaging.message.body.size");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  static final AttributeKey<Long> ENTRY_ID = AttributeKey.longKey("outbox.entry.id");
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("outbox.entry.attempts");
  static final AttributeKey<Boolean> PERMANENT =
      AttributeKey.booleanKey("outbox.failure.permanent");

  private final Publisher delegate;
  private final OutboxTracing tracing;

  TracingPublisher(Publisher delegate, OutboxTracing tracing) {
    this.delegate = delegate;
    this.tracing = tracing;
  }

  @Override
  public void publish(List<ClaimedEntry> entries) throws PublishException {
    List<ClaimedEntry> forwarded = new ArrayList<>(entries.size());
    List<Span> spans = new ArrayList<>(entries.size());
    for (ClaimedEntry e : entries) {
      Message m = e.message();
      Context stored =
          tracing.propagator().extract(Context.root(), m.headers(), OutboxTracing.HEADER_GETTER);
      SpanContext storedSpan = Span.fromContext(stored).getSpanContext();
      SpanBuilder b =
          tracing
              .tracer()
              .spanBuilder(OutboxTracing.SPAN_NAME)
              .setSpanKind(SpanKind.PRODUCER)
              .setAttribute(MESSAGING_SYSTEM, tracing.messagingSystem())
              .setAttribute(OPERATION_TYPE, "send")
              .setAttribute(OPERATION_NAME, "send")
              .setAttribute(DESTINATION, m.namespace())
              .setAttribute(MESSAGE_ID, e.messageId().toString())
              .setAttribute(BODY_SIZE, (long) m.payloadSize())
              .setAttribute(ENTRY_ID, e.id())
              .setAttribute(ATTEMPTS, (long) e.attempts());
      boolean child = tracing.relation() == OutboxTracing.Relation.CHILD && storedSpan.isValid();
      if (child) {
        b.setParent(stored);
      } else {
        b.setNoParent();
        if (storedSpan.isValid()) {
          b.addLink(storedSpan);
        }
      }
      Span span = b.startSpan();
      spans.add(span);
      forwarded.add(forward(e, stored, storedSpan.isValid(), span));
    }
    try {
      delegate.publish(forwarded);
    } catch (PublishException failure) {
      for (int i = 0; i < entries.size(); i++) {
        PublishException.Failure f = failure.failureOf(entries.get(i).id());
        if (f != null) {
          fail(spans.get(i), f.cause());
          spans.get(i).setAttribute(PERMANENT, f.permanent());
        }
      }
      throw failure;
    } catch (RuntimeException | Error failure) {
      for (Span span : spans) {
        fail(span, failure);
      }
      throw failure;
    } finally {
      for (Span span : spans) {
        span.end();
      }
    }
  }

  private static void fail(Span span, Throwable cause) {
    span.setStatus(StatusCode.ERROR, String.valueOf(cause.getMessage()));
    span.setAttribute(ERROR_TYPE, cause.getClass().getName());
    span.recordException(cause);
  }

  /**
   * The entry as the broker should get it: with {@link OutboxTracing.Relation#CHILD} and a stored
   * context, the relay span's context in place of the stored one; otherwise the entry as written (a
   * message written outside any trace gets no header here: it could push the message past a broker
   * limit that the write-time check never saw).
   */
  private ClaimedEntry forward(ClaimedEntry e, Context stored, boolean storedValid, Span span) {
    if (!storedValid || tracing.relation() == OutboxTracing.Relation.LINK) {
      return e;
    }
    // Keep whatever else the propagator carries (baggage, say) from the stored context.
    Message m = e.message();
    Map<String, String> headers = new LinkedHashMap<>();
    m.headers()
        .forEach(
            (k, v) -> {
              if (!tracing.isTraceHeader(k)) {
                headers.put(k, v);
              }
            });
    tracing.propagator().inject(stored.with(span), headers, OutboxTracing.MAP_SETTER);
    // ClaimedEntry has no toBuilder(): copy every field it has.
    return e.toBuilder().message(copy(m, headers)).build();
  }

  private static Message copy(Message m, Map<String, String> headers) {
    return Message.builder()
        .namespace(m.namespace())
        .key(m.key())
        .payload(m.payload())
        .headers(headers)
        .build();
  }

  @Override
  public void checkDeliverable(Message message) {
    delegate.checkDeliverable(message);
  }

  @Override
  public boolean keepsOrder() {
    return delegate.keepsOrder();
  }

  @Override
  public String toString() {
    return "TracingPublisher{" + delegate + "}";
  }
}
