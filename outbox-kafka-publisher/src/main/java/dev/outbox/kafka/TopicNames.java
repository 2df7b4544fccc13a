package dev.outbox.kafka;

/** Kafka's rules for topic names, checked before a name reaches the producer. */
final class TopicNames {

  /** Kafka's longest legal topic name. */
  static final int MAX_LENGTH = 249;

  private TopicNames() {}

  /** Why the name is not a legal topic name, or {@code null} when it is. */
  static String problem(String topic) {
    if (topic == null || topic.isEmpty()) {
      return "topic name is empty";
    }
    if (topic.equals(".") || topic.equals("..")) {
      return "topic name '" + topic + "' is not allowed";
    }
    if (topic.length() > MAX_LENGTH) {
      return "topic name '"
          + topic.substring(0, 40)
          + "...' is "
          + topic.length()
          + " characters; Kafka allows "
          + MAX_LENGTH;
    }
    for (int i = 0; i < topic.length(); i++) {
      char c = topic.charAt(i);
      boolean legal =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '-';
      if (!legal) {
        return "topic name '"
            + topic
            + "' has an illegal character at index "
            + i
            + "; Kafka allows [a-zA-Z0-9._-]";
      }
    }
    return null;
  }
}
