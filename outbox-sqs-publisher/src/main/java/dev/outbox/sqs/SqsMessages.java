package dev.outbox.sqs;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * Reads what {@link SqsPublisher} sent: for consumers of the queue.
 *
 * <p>Receive with the message attributes, or these helpers find nothing to read:
 *
 * <pre>{@code
 * ReceiveMessageRequest.builder().queueUrl(url).messageAttributeNames("All")...
 * for (Message m : response.messages()) {
 *   UUID messageId = SqsMessages.messageId(m); // deduplicate by it
 *   byte[] payload = SqsMessages.payload(m);  // the outbox payload, byte-exact
 * }
 * }</pre>
 *
 * <h2>Wire format</h2>
 *
 * <ul>
 *   <li>Body: the payload as text when it is valid UTF-8 made only of characters SQS accepts
 *       ({@code #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF}); otherwise its standard
 *       Base64 encoding, marked by the String attribute {@value #ENCODING} = {@value #BASE64}. An
 *       empty payload (SQS refuses empty bodies) is sent as the body {@code " "} marked {@value
 *       #ENCODING} = {@value #EMPTY}.
 *   <li>{@value #MESSAGE_ID} (String): the outbox message id ({@code ClaimedEntry.messageId()}, a
 *       UUID unique beyond its outbox table), on every message; on a FIFO queue also the {@code
 *       MessageDeduplicationId}. Consumers deduplicate by it.
 *   <li>{@value #NAMESPACE} (String): the message's namespace.
 *   <li>{@value #KEY} (Binary): the key, when the message has one. SQS refuses empty attribute
 *       values, so an empty (non-null) key travels as data type {@value #EMPTY_KEY_TYPE} with one
 *       zero byte.
 *   <li>Every header as a String attribute of the same name, exactly once. SQS refuses empty
 *       attribute values, so a header whose value is empty travels as data type {@value
 *       #EMPTY_STRING_TYPE} with the value {@code " "}.
 * </ul>
 *
 * <p>The outbox's row id is a storage detail and is not sent: two outbox tables number their rows
 * independently, so it identifies nothing on a shared queue.
 */
public final class SqsMessages {

  /** String attribute: the outbox message id, a UUID; consumers deduplicate by it. */
  public static final String MESSAGE_ID = "outbox-message-id";

  /** String attribute: the outbox namespace. */
  public static final String NAMESPACE = "outbox-namespace";

  /** Binary attribute: the message key, absent when the message has none. */
  public static final String KEY = "outbox-key";

  /** String attribute: how the body encodes the payload, absent when the body is the payload. */
  public static final String ENCODING = "outbox-encoding";

  /** {@link #ENCODING} value: the body is the payload in standard Base64. */
  public static final String BASE64 = "base64";

  /** {@link #ENCODING} value: the payload is empty (the body is a placeholder). */
  public static final String EMPTY = "empty";

  /** Data type of the {@link #KEY} attribute of a message whose key is empty but not null. */
  public static final String EMPTY_KEY_TYPE = "Binary.empty";

  /** Data type of a header attribute whose value is empty (the value sent is a placeholder). */
  public static final String EMPTY_STRING_TYPE = "String.empty";

  /** The value sent for a header whose value is empty: SQS refuses empty attribute values. */
  static final String EMPTY_STRING_PLACEHOLDER = " ";

  /**
   * The prefix of every attribute name the publisher sets itself (and may set in later versions);
   * header names starting with it are refused.
   */
  public static final String RESERVED_PREFIX = "outbox-";

  /** The attribute names the publisher sets itself in this version; headers cannot use them. */
  public static final Set<String> RESERVED = Set.of(MESSAGE_ID, NAMESPACE, KEY, ENCODING);

  private SqsMessages() {}

  /**
   * The outbox payload carried by a received message, byte-exact.
   *
   * @throws IllegalArgumentException when the message says Base64 but the body is not, or names an
   *     encoding this version does not know
   */
  public static byte[] payload(Message message) {
    MessageAttributeValue encoding = message.messageAttributes().get(ENCODING);
    if (encoding == null) {
      return message.body().getBytes(StandardCharsets.UTF_8);
    }
    String value = encoding.stringValue();
    if (BASE64.equals(value)) {
      return Base64.getDecoder().decode(message.body());
    }
    if (EMPTY.equals(value)) {
      return new byte[0];
    }
    throw new IllegalArgumentException(
        "message "
            + message.messageId()
            + " has "
            + ENCODING
            + " '"
            + value
            + "'; known: "
            + BASE64
            + ", "
            + EMPTY);
  }

  /**
   * The outbox message id of a received message: deduplicate by it. The same message sent twice
   * (at-least-once delivery) has the same id; messages of different outboxes never share one.
   *
   * @throws IllegalArgumentException when the message has no {@value #MESSAGE_ID} attribute (not
   *     sent by this version of {@link SqsPublisher}, or received without {@code
   *     messageAttributeNames("All")}), or its value is not a UUID
   */
  public static UUID messageId(Message message) {
    MessageAttributeValue id = message.messageAttributes().get(MESSAGE_ID);
    if (id == null || id.stringValue() == null) {
      throw new IllegalArgumentException(
          "message "
              + message.messageId()
              + " has no "
              + MESSAGE_ID
              + " attribute; receive with messageAttributeNames(\"All\")");
    }
    try {
      return UUID.fromString(id.stringValue());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "message "
              + message.messageId()
              + " has "
              + MESSAGE_ID
              + " '"
              + id.stringValue()
              + "', which is not a UUID",
          e);
    }
  }

  /** The outbox namespace of a received message, or {@code null} when it carries none. */
  public static String namespace(Message message) {
    MessageAttributeValue ns = message.messageAttributes().get(NAMESPACE);
    return ns == null ? null : ns.stringValue();
  }

  /** The key of a received message, or {@code null} when the outbox message had none. */
  public static byte[] key(Message message) {
    MessageAttributeValue key = message.messageAttributes().get(KEY);
    if (key == null) {
      return null;
    }
    if (EMPTY_KEY_TYPE.equals(key.dataType())) {
      return new byte[0];
    }
    SdkBytes bytes = key.binaryValue();
    return bytes == null ? null : bytes.asByteArray();
  }

  /**
   * The headers of a received message: its String attributes (and {@value #EMPTY_STRING_TYPE} ones,
   * as empty values) except the publisher's own, in no particular order.
   */
  public static Map<String, String> headers(Message message) {
    Map<String, String> headers = new LinkedHashMap<>();
    message
        .messageAttributes()
        .forEach(
            (name, value) -> {
              if (name.startsWith(RESERVED_PREFIX)) {
                return;
              }
              if ("String".equals(value.dataType())) {
                headers.put(name, value.stringValue());
              } else if (EMPTY_STRING_TYPE.equals(value.dataType())) {
                headers.put(name, "");
              }
            });
    return Collections.unmodifiableMap(headers);
  }

  /**
   * The outbox message a received message carries: namespace, key, payload and headers.
   *
   * @throws IllegalArgumentException when the message has no {@value #NAMESPACE} attribute
   */
  public static dev.outbox.Message toOutboxMessage(Message message) {
    String namespace = namespace(message);
    if (namespace == null) {
      throw new IllegalArgumentException(
          "message "
              + message.messageId()
              + " has no "
              + NAMESPACE
              + " attribute; receive with messageAttributeNames(\"All\")");
    }
    return dev.outbox.Message.builder()
        .namespace(namespace)
        .key(key(message))
        .payload(payload(message))
        .headers(headers(message))
        .build();
  }
}
