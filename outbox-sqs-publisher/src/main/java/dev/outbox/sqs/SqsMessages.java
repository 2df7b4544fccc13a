package dev.outbox.sqs;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
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
 *   long entryId = SqsMessages.entryId(m);    // deduplicate by it
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
 *   <li>{@value #ENTRY_ID} (Number): the outbox entry id, on every message.
 *   <li>{@value #NAMESPACE} (String): the message's namespace.
 *   <li>{@value #KEY} (Binary): the key, when the message has one. SQS refuses empty attribute
 *       values, so an empty (non-null) key travels as data type {@value #EMPTY_KEY_TYPE} with one
 *       zero byte.
 *   <li>Every header as a String attribute of the same name.
 * </ul>
 */
public final class SqsMessages {

  /** Number attribute: the outbox entry id. */
  public static final String ENTRY_ID = "outbox-entry-id";

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

  /** The attribute names the publisher sets itself; headers cannot use them. */
  public static final Set<String> RESERVED = Set.of(ENTRY_ID, NAMESPACE, KEY, ENCODING);

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
   * The outbox entry id of a received message: deduplicate by it.
   *
   * @throws IllegalArgumentException when the message has no {@value #ENTRY_ID} attribute (not sent
   *     by {@link SqsPublisher}, or received without {@code messageAttributeNames("All")})
   */
  public static long entryId(Message message) {
    MessageAttributeValue id = message.messageAttributes().get(ENTRY_ID);
    if (id == null || id.stringValue() == null) {
      throw new IllegalArgumentException(
          "message "
              + message.messageId()
              + " has no "
              + ENTRY_ID
              + " attribute; receive with messageAttributeNames(\"All\")");
    }
    return Long.parseLong(id.stringValue());
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
   * The headers of a received message: its String attributes except the publisher's own, in no
   * particular order.
   */
  public static Map<String, String> headers(Message message) {
    Map<String, String> headers = new LinkedHashMap<>();
    message
        .messageAttributes()
        .forEach(
            (name, value) -> {
              if (!RESERVED.contains(name) && "String".equals(value.dataType())) {
                headers.put(name, value.stringValue());
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
