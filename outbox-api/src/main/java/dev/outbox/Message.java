package dev.outbox;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One message to be written to the outbox and later handed to a {@link Publisher}.
 *
 * <p>Immutable: the builder copies the key, the payload and the headers, and the accessors return
 * copies of the byte arrays, so neither side can change a message after it was built.
 *
 * <ul>
 *   <li>{@code namespace} (required, 1 to {@value #MAX_NAMESPACE_LENGTH} characters): what the
 *       message is about, typically a topic or queue name; publishers route by it.
 *   <li>{@code key} (optional bytes): a partitioning or grouping key (SQS FIFO message group, Kafka
 *       key). {@code null} ("no key") and an empty array are different values and are stored and
 *       restored as such.
 *   <li>{@code payload} (required bytes, may be empty): the message body, byte-exact.
 *   <li>{@code headers} (string map, possibly empty): metadata that travels with the message, such
 *       as trace context or content type. Names are non-empty; values are non-null.
 * </ul>
 *
 * <p>Text is kept exactly or refused, never altered: the namespace and headers may not contain a
 * NUL character, and no text (namespace, headers, a key or payload given as a string) may contain a
 * lone UTF-16 surrogate, which has no UTF-8 form. Such input fails at {@code build()} or at the
 * setter, with the field and the index named.
 */
public final class Message {

  /** The longest namespace accepted, in characters. */
  public static final int MAX_NAMESPACE_LENGTH = 255;

  private final String namespace;
  private final byte[] key;
  private final byte[] payload;
  private final Map<String, String> headers;

  private Message(Builder b) {
    this.namespace = b.namespace;
    this.key = b.key;
    this.payload = b.payload;
    this.headers = Collections.unmodifiableMap(new LinkedHashMap<>(b.headers));
  }

  /** Starts a new message. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder pre-filled with this message's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.namespace = namespace;
    b.key = key;
    b.payload = payload;
    b.headers.putAll(headers);
    return b;
  }

  /** The namespace (never null). */
  public String namespace() {
    return namespace;
  }

  /** A copy of the key, or {@code null} when the message has none. */
  public byte[] key() {
    return key == null ? null : key.clone();
  }

  /** The key decoded as UTF-8, or {@code null} when the message has none. */
  public String keyAsString() {
    return key == null ? null : new String(key, StandardCharsets.UTF_8);
  }

  /** The key's length in bytes, 0 when there is none. */
  public int keySize() {
    return key == null ? 0 : key.length;
  }

  /** A copy of the payload (never null). */
  public byte[] payload() {
    return payload.clone();
  }

  /** The payload decoded as UTF-8. */
  public String payloadAsString() {
    return new String(payload, StandardCharsets.UTF_8);
  }

  /** The payload's length in bytes. */
  public int payloadSize() {
    return payload.length;
  }

  /**
   * The headers, unmodifiable. A message built here keeps insertion order; one read back from a
   * storage may come in another order (PostgreSQL's jsonb sorts keys), with the same entries.
   */
  public Map<String, String> headers() {
    return headers;
  }

  /**
   * Roughly the bytes this message occupies: key, payload, namespace and header names and values
   * (UTF-8). This is the figure {@link Outbox} compares with its {@code maxMessageBytes}.
   */
  public int sizeInBytes() {
    long size = keySize() + (long) payload.length + utf8Length(namespace);
    for (Map.Entry<String, String> h : headers.entrySet()) {
      size += utf8Length(h.getKey()) + utf8Length(h.getValue());
    }
    return (int) Math.min(Integer.MAX_VALUE, size);
  }

  private static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Message)) {
      return false;
    }
    Message m = (Message) o;
    return namespace.equals(m.namespace)
        && Arrays.equals(key, m.key)
        && Arrays.equals(payload, m.payload)
        && headers.equals(m.headers);
  }

  @Override
  public int hashCode() {
    return Objects.hash(namespace, Arrays.hashCode(key), Arrays.hashCode(payload), headers);
  }

  @Override
  public String toString() {
    return "Message{namespace="
        + namespace
        + ", key="
        + (key == null ? "null" : key.length + " bytes")
        + ", payload="
        + payload.length
        + " bytes, headers="
        + headers.keySet()
        + "}";
  }

  /** Builds a {@link Message}; {@link #build()} checks every field and names the bad one. */
  public static final class Builder {
    private String namespace;
    private byte[] key;
    private byte[] payload;
    private final Map<String, String> headers = new LinkedHashMap<>();

    private Builder() {}

    /** Sets the namespace (required). */
    public Builder namespace(String namespace) {
      this.namespace = namespace;
      return this;
    }

    /** Sets the key (copied); {@code null} means no key. */
    public Builder key(byte[] key) {
      this.key = key == null ? null : key.clone();
      return this;
    }

    /**
     * Sets the key as UTF-8 bytes; {@code null} means no key.
     *
     * @throws IllegalArgumentException when the key has a lone surrogate, which UTF-8 cannot carry
     */
    public Builder key(String key) {
      this.key = key == null ? null : utf8("key", key);
      return this;
    }

    /** Sets the payload (copied, required). */
    public Builder payload(byte[] payload) {
      this.payload = payload == null ? null : payload.clone();
      return this;
    }

    /**
     * Sets the payload as UTF-8 bytes (required).
     *
     * @throws IllegalArgumentException when the payload has a lone surrogate, which UTF-8 cannot
     *     carry (it would silently become {@code ?})
     */
    public Builder payload(String payload) {
      this.payload = payload == null ? null : utf8("payload", payload);
      return this;
    }

    private static byte[] utf8(String field, String text) {
      String problem = Texts.problem(text, true);
      if (problem != null) {
        throw new IllegalArgumentException("Message " + field + " " + problem);
      }
      return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Adds or replaces one header.
     *
     * @throws IllegalArgumentException when the name is null or empty, the value is null, or either
     *     has a NUL character or a lone surrogate (no storage can keep those exactly)
     */
    public Builder header(String name, String value) {
      requireHeader(name, value);
      headers.put(name, value);
      return this;
    }

    /** Adds or replaces every header of the map. */
    public Builder headers(Map<String, String> headers) {
      Objects.requireNonNull(headers, "headers must not be null");
      headers.forEach(this::header);
      return this;
    }

    /**
     * Builds the message.
     *
     * @throws IllegalArgumentException naming the field when the namespace or payload is missing,
     *     the namespace is too long, or it has a NUL character or a lone surrogate
     */
    public Message build() {
      if (namespace == null || namespace.isBlank()) {
        throw new IllegalArgumentException("Message namespace is required and must not be blank");
      }
      if (namespace.length() > MAX_NAMESPACE_LENGTH) {
        throw new IllegalArgumentException(
            "Message namespace is "
                + namespace.length()
                + " characters long; the limit is "
                + MAX_NAMESPACE_LENGTH);
      }
      String problem = Texts.problem(namespace, false);
      if (problem != null) {
        throw new IllegalArgumentException("Message namespace " + problem);
      }
      if (payload == null) {
        throw new IllegalArgumentException(
            "Message payload is required (use an empty array for an empty body)");
      }
      return new Message(this);
    }

    private static void requireHeader(String name, String value) {
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException("Message header name must not be null or empty");
      }
      if (value == null) {
        throw new IllegalArgumentException(
            "Message header '" + name + "' has a null value; use an empty string or omit it");
      }
      String problem = Texts.problem(name, false);
      if (problem != null) {
        throw new IllegalArgumentException("Message header name " + problem);
      }
      problem = Texts.problem(value, false);
      if (problem != null) {
        throw new IllegalArgumentException("Message header '" + name + "' value " + problem);
      }
    }
  }
}
