package dev.outbox.kafka;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The producer configuration, checked for what the outbox relies on, and the figures the publisher
 * reads from it (size limit, timeouts).
 */
final class ProducerSettings {

  /** Kafka's own bound for ordering under retries with the idempotent producer. */
  static final int MAX_IN_FLIGHT_FOR_ORDER = 5;

  /** The configuration a new producer is built with: the user's plus the filled-in defaults. */
  final Map<String, Object> config;

  final int maxRequestSize;
  final long bufferMemory;
  final long deliveryTimeoutMs;
  final long maxBlockMs;

  /**
   * Whether the producer writes each partition in send order across its retries: retries on, and
   * idempotence on or at most one request in flight. The checks refuse anything else, so this is
   * true of every built publisher; it is kept as a figure so {@code keepsOrder()} says why.
   */
  final boolean keepsPartitionOrder;

  private ProducerSettings(Map<String, Object> config, Map<String, Object> parsed) {
    this.config = Collections.unmodifiableMap(config);
    this.maxRequestSize = (Integer) parsed.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    this.bufferMemory = (Long) parsed.get(ProducerConfig.BUFFER_MEMORY_CONFIG);
    this.deliveryTimeoutMs = (Integer) parsed.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG);
    this.maxBlockMs = (Long) parsed.get(ProducerConfig.MAX_BLOCK_MS_CONFIG);
    int retries = (Integer) parsed.get(ProducerConfig.RETRIES_CONFIG);
    int maxInFlight = (Integer) parsed.get(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION);
    boolean idempotent = Boolean.TRUE.equals(parsed.get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG));
    this.keepsPartitionOrder =
        retries > 0 && (idempotent && maxInFlight <= MAX_IN_FLIGHT_FOR_ORDER || maxInFlight == 1);
  }

  /**
   * Checks the configuration of a producer the publisher will build, and states the safe settings
   * explicitly: {@code enable.idempotence=true} and {@code acks=all} when absent (so Kafka cannot
   * silently turn idempotence off), byte-array serializers.
   *
   * @throws IllegalArgumentException naming every setting that would break order or lose
   *     acknowledged records, or a value Kafka cannot parse
   */
  static ProducerSettings forNewProducer(Map<?, ?> userConfig) {
    Map<String, Object> config = copy(userConfig);
    config.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    config.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
    config.putIfAbsent(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    config.putIfAbsent(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    List<String> errors = new ArrayList<>();
    if (!config.containsKey(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)) {
      errors.add(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG + " is required");
    }
    return check(config, errors, "producer config");
  }

  /**
   * Checks the configuration a caller says their producer was built with. The producer itself
   * cannot be asked, so this is only as true as the map; an absent setting is taken at Kafka's
   * default (idempotence on, acks=all since Kafka 3.0).
   *
   * @throws IllegalArgumentException naming every setting that would break order or lose
   *     acknowledged records, or a value Kafka cannot parse
   */
  static ProducerSettings forExistingProducer(Map<?, ?> builtWith) {
    return check(copy(builtWith), new ArrayList<>(), "the producer's config");
  }

  private static ProducerSettings check(
      Map<String, Object> config, List<String> errors, String what) {
    Map<String, Object> forParsing = new LinkedHashMap<>(config);
    // Only to let ConfigDef parse a map that lacks the required keys; never used to connect.
    forParsing.putIfAbsent(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    forParsing.putIfAbsent(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    forParsing.putIfAbsent(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    Map<String, Object> parsed;
    try {
      parsed = ProducerConfig.configDef().parse(forParsing);
    } catch (ConfigException e) {
      throw new IllegalArgumentException("invalid " + what + ": " + e.getMessage(), e);
    }
    if (config.containsKey(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG)
        && !Boolean.TRUE.equals(parsed.get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG))) {
      errors.add(
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG
              + "="
              + config.get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG)
              + ": must be true; without idempotence a retried send can duplicate a record or"
              + " write it after later records of its partition");
    }
    String acks = String.valueOf(parsed.get(ProducerConfig.ACKS_CONFIG)).trim();
    if (!acks.equals("all") && !acks.equals("-1")) {
      errors.add(
          ProducerConfig.ACKS_CONFIG
              + "="
              + acks
              + ": must be all (or -1); with fewer acknowledgements a record the outbox deletes"
              + " as sent can be lost when the partition leader fails");
    }
    int maxInFlight = (Integer) parsed.get(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION);
    if (maxInFlight > MAX_IN_FLIGHT_FOR_ORDER) {
      errors.add(
          ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION
              + "="
              + maxInFlight
              + ": must be 1 to "
              + MAX_IN_FLIGHT_FOR_ORDER
              + "; more lets a retried batch land after a later one of its partition");
    }
    int retries = (Integer) parsed.get(ProducerConfig.RETRIES_CONFIG);
    if (retries == 0) {
      errors.add(
          ProducerConfig.RETRIES_CONFIG
              + "=0: must be > 0 (leave it unset); without retries a batch that failed"
              + " transiently is dropped while later ones of its partition are written");
    }
    if (config.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG) != null) {
      errors.add(
          ProducerConfig.TRANSACTIONAL_ID_CONFIG
              + " is set: KafkaPublisher does not run Kafka transactions (see the module README);"
              + " use a producer without one");
    }
    checkSerializer(config, ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, errors);
    checkSerializer(config, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, errors);
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException(
          "KafkaPublisher refuses " + what + ": " + String.join("; ", errors));
    }
    return new ProducerSettings(config, parsed);
  }

  private static void checkSerializer(Map<String, Object> config, String key, List<String> errors) {
    Object value = config.get(key);
    if (value == null) {
      return;
    }
    String name = value instanceof Class<?> c ? c.getName() : String.valueOf(value).trim();
    if (!name.equals(ByteArraySerializer.class.getName())) {
      errors.add(
          key
              + "="
              + name
              + ": must be "
              + ByteArraySerializer.class.getName()
              + "; the publisher sends the message's key and payload bytes as they are");
    }
  }

  private static Map<String, Object> copy(Map<?, ?> config) {
    if (config == null) {
      throw new IllegalArgumentException("producer config must not be null");
    }
    Map<String, Object> copy = new LinkedHashMap<>();
    config.forEach(
        (k, v) -> {
          if (!(k instanceof String)) {
            throw new IllegalArgumentException("producer config keys must be strings; found " + k);
          }
          copy.put((String) k, v);
        });
    return copy;
  }
}
