package dev.outbox.opentelemetry;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.Publisher;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * Carries the trace of the request that wrote a message through the outbox table to the broker.
 *
 * <pre>{@code
 * OutboxTracing tracing = OutboxTracing.builder(openTelemetry).messagingSystem("aws_sqs").build();
 * Outbox<Handle> outbox =
 *     Outbox.builder(storage, tracing.instrument(publisher)) // a PRODUCER span per message
 *         .decorateMessages(tracing.writeDecorator())       // trace context into the headers
 *         .build();
 * }</pre>
 *
 * <ul>
 *   <li>At {@link Outbox#publish}, inside the caller's transaction and on its thread, the current
 *       context is written into the message's headers ({@code traceparent} and, when there is one,
 *       {@code tracestate}) unless the message already has any of those headers (in any letter
 *       case): the caller's own trace context is never doubled.
 *   <li>At relay time, the instrumented publisher starts one span per entry, {@value #SPAN_NAME},
 *       of kind PRODUCER, with the messaging semantic-convention attributes. By default ({@link
 *       Relation#CHILD}) it is a child of the stored context, and the message handed to the broker
 *       carries the relay span's context instead of the stored one: exactly one {@code
 *       traceparent}, and a consumer continues the same trace below the relay span. With {@link
 *       Relation#LINK} the relay span starts a trace of its own linked to the stored context, and
 *       the stored headers go to the broker unchanged.
 *   <li>The stored message is never changed: every retry and redelivery starts from the request's
 *       context again.
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class OutboxTracing {

  /** The relay span's name. */
  public static final String SPAN_NAME = "outbox publish";

  /** The instrumentation scope name of the tracer. */
  public static final String INSTRUMENTATION_NAME = "dev.outbox.opentelemetry";

  /** How the relay span relates to the context stored with the message. */
  public enum Relation {
    /**
     * The relay span is a child of the stored context, and the broker gets the relay span's
     * context: request, relay and consumer form one trace.
     */
    CHILD,
    /**
     * The relay span starts a new trace with a link to the stored context, and the broker gets the
     * stored context unchanged: request and consumer form one trace; relays (which may happen long
     * after the request, and several times) are traces of their own.
     */
    LINK
  }

  private final Tracer tracer;
  private final TextMapPropagator propagator;
  private final String messagingSystem;
  private final Relation relation;
  private final Set<String> fields; // lower case

  private OutboxTracing(Builder b) {
    this.tracer = b.openTelemetry.getTracer(INSTRUMENTATION_NAME);
    this.propagator = b.propagator;
    this.messagingSystem = b.messagingSystem;
    this.relation = b.relation;
    Set<String> f = new TreeSet<>();
    for (String field : propagator.fields()) {
      f.add(field.toLowerCase(Locale.ROOT));
    }
    this.fields = Set.copyOf(f);
  }

  /**
   * Starts configuring tracing over an {@link OpenTelemetry} instance (your SDK, or {@code
   * GlobalOpenTelemetry.get()}).
   */
  public static Builder builder(OpenTelemetry openTelemetry) {
    return new Builder(openTelemetry);
  }

  /**
   * The write-time hook for {@link Outbox.Builder#decorateMessages}: {@link #inject} as a function.
   */
  public UnaryOperator<Message> writeDecorator() {
    return this::inject;
  }

  /**
   * Returns the message with the current context's trace headers added, or the message itself when
   * it already has a trace header (in any letter case) or there is no current span context.
   */
  public Message inject(Message message) {
    Objects.requireNonNull(message, "message");
    if (hasTraceHeader(message.headers())) {
      return message;
    }
    Map<String, String> carrier = new LinkedHashMap<>();
    propagator.inject(Context.current(), carrier, MAP_SETTER);
    if (carrier.isEmpty()) {
      return message;
    }
    return message.toBuilder().headers(carrier).build();
  }

  /**
   * Wraps the publisher so that each entry it is given is published inside a relay span and carries
   * exactly one trace context; see the class description. Pass the result to {@link
   * Outbox#builder}. Write-time checks ({@link Publisher#checkDeliverable}) go to the wrapped
   * publisher unchanged.
   */
  public Publisher instrument(Publisher publisher) {
    Objects.requireNonNull(publisher, "publisher must not be null");
    return new TracingPublisher(publisher, this);
  }

  Tracer tracer() {
    return tracer;
  }

  TextMapPropagator propagator() {
    return propagator;
  }

  String messagingSystem() {
    return messagingSystem;
  }

  Relation relation() {
    return relation;
  }

  boolean hasTraceHeader(Map<String, String> headers) {
    for (String name : headers.keySet()) {
      if (fields.contains(name.toLowerCase(Locale.ROOT))) {
        return true;
      }
    }
    return false;
  }

  boolean isTraceHeader(String name) {
    return fields.contains(name.toLowerCase(Locale.ROOT));
  }

  static final TextMapSetter<Map<String, String>> MAP_SETTER =
      (carrier, key, value) -> {
        if (carrier != null) {
          carrier.put(key, value);
        }
      };

  /** Reads headers by name, exactly or else ignoring letter case (HTTP header names). */
  static final TextMapGetter<Map<String, String>> HEADER_GETTER =
      new TextMapGetter<>() {
        @Override
        public String get(Map<String, String> carrier, String key) {
          if (carrier == null || key == null) {
            return null;
          }
          String value = carrier.get(key);
          if (value != null) {
            return value;
          }
          for (Map.Entry<String, String> e : carrier.entrySet()) {
            if (e.getKey().equalsIgnoreCase(key)) {
              return e.getValue();
            }
          }
          return null;
        }
      };

  /** Configures an {@link OutboxTracing}; {@link #build()} names every bad setting. */
  public static final class Builder {
    private final OpenTelemetry openTelemetry;
    private TextMapPropagator propagator = W3CTraceContextPropagator.getInstance();
    private String messagingSystem = "outbox";
    private Relation relation = Relation.CHILD;

    private Builder(OpenTelemetry openTelemetry) {
      this.openTelemetry = openTelemetry;
    }

    /**
     * The {@code messaging.system} attribute of relay spans: {@code aws_sqs}, {@code kafka}, ... as
     * the semantic conventions name the broker; default {@code outbox}.
     */
    public Builder messagingSystem(String messagingSystem) {
      this.messagingSystem = messagingSystem;
      return this;
    }

    /** How relay spans relate to the stored context; default {@link Relation#CHILD}. */
    public Builder relation(Relation relation) {
      this.relation = relation;
      return this;
    }

    /**
     * The propagator that writes and reads the headers; default W3C Trace Context ({@code
     * traceparent}, {@code tracestate}). Pass {@code openTelemetry.getPropagators()
     * .getTextMapPropagator()} to also carry baggage or use another format; its {@code fields()}
     * are the headers checked for an existing context.
     */
    public Builder propagator(TextMapPropagator propagator) {
      this.propagator = propagator;
      return this;
    }

    /**
     * Builds it.
     *
     * @throws IllegalArgumentException listing every invalid setting
     */
    public OutboxTracing build() {
      List<String> errors = new ArrayList<>();
      if (openTelemetry == null) {
        errors.add("openTelemetry must not be null");
      }
      if (propagator == null) {
        errors.add("propagator must not be null");
      } else if (propagator.fields().isEmpty()) {
        errors.add("propagator " + propagator + " names no fields; it would write no headers");
      }
      if (messagingSystem == null || messagingSystem.isBlank()) {
        errors.add("messagingSystem must not be null or blank");
      }
      if (relation == null) {
        errors.add("relation must not be null");
      }
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(
            "Invalid OutboxTracing configuration: " + String.join("; ", errors));
      }
      return new OutboxTracing(this);
    }
  }
}
