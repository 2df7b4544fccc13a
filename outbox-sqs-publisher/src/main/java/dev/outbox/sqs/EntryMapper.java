package dev.outbox.sqs;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * Turns an outbox entry into an SQS batch entry, or refuses it with a reason that names the limit
 * and the figure. Never drops, shortens or alters anything. The one place that knows SQS's limits
 * on a message: {@link SqsPublisher#publish} and {@link SqsPublisher#checkDeliverable} both use it.
 */
final class EntryMapper {

  /** SQS: at most 10 message attributes per message. */
  static final int MAX_ATTRIBUTES = 10;

  /** SQS: an attribute name is at most 256 characters. */
  static final int MAX_ATTRIBUTE_NAME_LENGTH = 256;

  /** SQS: a FIFO message group id is 1 to 128 characters. */
  static final int MAX_GROUP_ID_LENGTH = 128;

  private static final String EMPTY_BODY = " ";

  private final int maxMessageBytes;
  private final Function<byte[], String> groupIdFunction;
  private final String defaultGroupId;

  EntryMapper(
      int maxMessageBytes, Function<byte[], String> groupIdFunction, String defaultGroupId) {
    this.maxMessageBytes = maxMessageBytes;
    this.groupIdFunction = groupIdFunction;
    this.defaultGroupId = defaultGroupId;
  }

  /**
   * The message as SQS will carry it: its body and message attributes, checked against every limit
   * SQS sets on them. {@link #map} sends exactly this; {@link SqsPublisher#checkDeliverable} runs
   * the same code at write time, so the two cannot disagree.
   *
   * @param body the SQS message body
   * @param attributes the message attributes, the publisher's own first, then one per header
   * @param bytes the size as SQS counts it: body plus every attribute's name, data type and value
   */
  record Encoded(String body, Map<String, MessageAttributeValue> attributes, int bytes) {}

  /**
   * Encodes a message for SQS.
   *
   * @param messageId the id sent as the {@value SqsMessages#MESSAGE_ID} attribute; every UUID has
   *     the same text length, so any id gives the same size and the same verdict
   * @throws IllegalArgumentException when SQS cannot carry the message as it is, with a phrase that
   *     continues "message ...", such as {@code has 11 attributes (...); SQS allows 10}
   */
  Encoded encode(Message m, UUID messageId) {
    byte[] key = m.key();
    String body;
    String encoding = null;
    byte[] payload = m.payload();
    if (payload.length == 0) {
      body = EMPTY_BODY;
      encoding = SqsMessages.EMPTY;
    } else {
      body = asSqsText(payload);
      if (body == null) {
        body = Base64.getEncoder().encodeToString(payload);
        encoding = SqsMessages.BASE64;
      }
    }
    int own = 2 + (key == null ? 0 : 1) + (encoding == null ? 0 : 1);
    int attributeCount = own + m.headers().size();
    if (attributeCount > MAX_ATTRIBUTES) {
      throw new IllegalArgumentException(
          "has "
              + attributeCount
              + " attributes ("
              + m.headers().size()
              + " headers + "
              + own
              + " set by the outbox); SQS allows "
              + MAX_ATTRIBUTES);
    }

    Map<String, MessageAttributeValue> attributes = new LinkedHashMap<>();
    attributes.put(SqsMessages.MESSAGE_ID, string(messageId.toString()));
    requireSqsText("namespace", m.namespace());
    attributes.put(SqsMessages.NAMESPACE, string(m.namespace()));
    if (key != null) {
      attributes.put(
          SqsMessages.KEY,
          key.length == 0
              ? MessageAttributeValue.builder()
                  .dataType(SqsMessages.EMPTY_KEY_TYPE)
                  .binaryValue(SdkBytes.fromByteArray(new byte[1]))
                  .build()
              : MessageAttributeValue.builder()
                  .dataType("Binary")
                  .binaryValue(SdkBytes.fromByteArray(key))
                  .build());
    }
    if (encoding != null) {
      attributes.put(SqsMessages.ENCODING, string(encoding));
    }
    for (Map.Entry<String, String> h : m.headers().entrySet()) {
      String problem = attributeNameProblem(h.getKey());
      if (problem != null) {
        throw new IllegalArgumentException("has header '" + h.getKey() + "': " + problem);
      }
      if (h.getValue().isEmpty()) {
        // SQS refuses empty attribute values: a marked placeholder, as for an empty key.
        attributes.put(
            h.getKey(),
            MessageAttributeValue.builder()
                .dataType(SqsMessages.EMPTY_STRING_TYPE)
                .stringValue(SqsMessages.EMPTY_STRING_PLACEHOLDER)
                .build());
      } else {
        requireSqsText("header '" + h.getKey() + "'", h.getValue());
        attributes.put(h.getKey(), string(h.getValue()));
      }
    }

    long bytes = utf8Length(body);
    long attributeBytes = 0;
    for (Map.Entry<String, MessageAttributeValue> a : attributes.entrySet()) {
      attributeBytes += attributeBytes(a.getKey(), a.getValue());
    }
    long total = bytes + attributeBytes;
    if (total > maxMessageBytes) {
      throw new IllegalArgumentException(
          "is "
              + total
              + " bytes on SQS (body "
              + bytes
              + (SqsMessages.BASE64.equals(encoding)
                  ? " after Base64 of " + payload.length + " payload bytes"
                  : "")
              + " + attributes "
              + attributeBytes
              + "); the limit (maxMessageBytes) is "
              + maxMessageBytes);
    }
    return new Encoded(body, attributes, (int) total);
  }

  /**
   * Maps one entry: its message as {@link #encode} makes it, its {@link ClaimedEntry#messageId()}
   * as the {@value SqsMessages#MESSAGE_ID} attribute and, on a FIFO queue, as the deduplication id.
   *
   * @throws SqsEntryException when SQS cannot carry the message as it is (permanent)
   * @throws RuntimeException what the group id function threw
   */
  PreparedEntry map(ClaimedEntry entry, String queueUrl, boolean fifo) {
    long id = entry.id();
    Encoded encoded;
    try {
      encoded = encode(entry.message(), entry.messageId());
    } catch (IllegalArgumentException e) {
      throw reject(id, queueUrl, "message " + id + " " + e.getMessage());
    }
    SendMessageBatchRequestEntry.Builder request =
        SendMessageBatchRequestEntry.builder()
            .id(Long.toString(id))
            .messageBody(encoded.body())
            .messageAttributes(encoded.attributes());
    String groupId = null;
    if (fifo) {
      groupId = groupId(entry.message());
      String problem = groupIdProblem(groupId);
      if (problem != null) {
        throw reject(
            id,
            queueUrl,
            "message " + id + " has FIFO message group id " + quoted(groupId) + ": " + problem);
      }
      request.messageGroupId(groupId).messageDeduplicationId(entry.messageId().toString());
    }
    return new PreparedEntry(entry, queueUrl, groupId, request.build(), encoded.bytes());
  }

  /**
   * The FIFO message group of a message: the group id function's result for its key, the default
   * group when it has none. Not checked; see {@link #groupIdProblem}.
   *
   * @throws RuntimeException what the group id function threw
   */
  String groupId(Message m) {
    byte[] key = m.key();
    return key == null ? defaultGroupId : groupIdFunction.apply(key);
  }

  /** The default group id function: the key as text when SQS accepts it, else a digest. */
  static String defaultGroupId(byte[] key) {
    if (key.length >= 1 && key.length <= MAX_GROUP_ID_LENGTH) {
      boolean printable = true;
      for (byte b : key) {
        if (b < 0x21 || b > 0x7e) {
          printable = false;
          break;
        }
      }
      if (printable) {
        return new String(key, StandardCharsets.US_ASCII);
      }
    }
    if (key.length == 0) {
      return "outbox-empty-key";
    }
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(key);
      return "sha256-" + java.util.HexFormat.of().formatHex(digest);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** Why SQS would refuse this FIFO group id, or {@code null} when it is fine. */
  static String groupIdProblem(String groupId) {
    if (groupId == null || groupId.isEmpty()) {
      return "it must not be null or empty";
    }
    if (groupId.length() > MAX_GROUP_ID_LENGTH) {
      return "it is " + groupId.length() + " characters; SQS allows " + MAX_GROUP_ID_LENGTH;
    }
    for (int i = 0; i < groupId.length(); i++) {
      char c = groupId.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return "character "
            + i
            + " is not allowed; SQS allows letters, digits and ASCII punctuation";
      }
    }
    return null;
  }

  /** Why SQS would refuse this message attribute name, or {@code null} when it is fine. */
  static String attributeNameProblem(String name) {
    if (name.startsWith(SqsMessages.RESERVED_PREFIX)) {
      return "names starting with '"
          + SqsMessages.RESERVED_PREFIX
          + "' are reserved for the SQS publisher's own attributes";
    }
    if (name.length() > MAX_ATTRIBUTE_NAME_LENGTH) {
      return "the name is "
          + name.length()
          + " characters; SQS allows "
          + MAX_ATTRIBUTE_NAME_LENGTH;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '_'
              || c == '-'
              || c == '.';
      if (!ok) {
        return "character "
            + i
            + " ('"
            + c
            + "') is not allowed; SQS attribute names allow only A-Z a-z 0-9 _ - .";
      }
    }
    String lower = name.toLowerCase(java.util.Locale.ROOT);
    if (lower.startsWith("aws.") || lower.startsWith("amazon.")) {
      return "SQS reserves names starting with 'AWS.' and 'Amazon.'";
    }
    if (name.startsWith(".") || name.endsWith(".")) {
      return "SQS attribute names must not start or end with a period";
    }
    if (name.contains("..")) {
      return "SQS attribute names must not contain two periods in a row";
    }
    return null;
  }

  /**
   * The bytes as a String when they are valid UTF-8 made only of characters SQS accepts in a body,
   * else {@code null}.
   */
  static String asSqsText(byte[] bytes) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    return firstInvalidCharacter(text) < 0 ? text : null;
  }

  /** The index of the first character SQS refuses in a body or attribute, or -1. */
  static int firstInvalidCharacter(String text) {
    for (int i = 0; i < text.length(); ) {
      int c = text.codePointAt(i);
      boolean ok =
          c == 0x9
              || c == 0xA
              || c == 0xD
              || (c >= 0x20 && c <= 0xD7FF)
              || (c >= 0xE000 && c <= 0xFFFD)
              || (c >= 0x10000 && c <= 0x10FFFF);
      if (!ok) {
        return i;
      }
      i += Character.charCount(c);
    }
    return -1;
  }

  private static void requireSqsText(String what, String value) {
    int bad = firstInvalidCharacter(value);
    if (bad >= 0) {
      throw new IllegalArgumentException(
          "has "
              + what
              + " with character U+"
              + String.format("%04X", value.codePointAt(bad))
              + " at index "
              + bad
              + ", which SQS does not accept (allowed: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD"
              + " #x10000-#x10FFFF)");
    }
  }

  private static long attributeBytes(String name, MessageAttributeValue v) {
    long value =
        v.binaryValue() != null
            ? v.binaryValue().asByteArrayUnsafe().length
            : utf8Length(v.stringValue());
    return utf8Length(name) + utf8Length(v.dataType()) + value;
  }

  private static MessageAttributeValue string(String value) {
    return MessageAttributeValue.builder().dataType("String").stringValue(value).build();
  }

  private static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }

  private static String quoted(String s) {
    return s == null ? "null" : "'" + s + "'";
  }

  private static SqsEntryException reject(long id, String queueUrl, String message) {
    return SqsEntryException.rejected(id, queueUrl, message);
  }
}
