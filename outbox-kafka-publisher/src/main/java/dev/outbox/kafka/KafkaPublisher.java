package dev.outbox.kafka;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes outbox entries to Apache Kafka with an idempotent producer, one record per entry.
 *
 * <pre>{@code
 * KafkaPublisher publisher = KafkaPublisher.builder(Map.of("bootstrap.servers", "kafka:9092"))
 *     .routes(Map.of("orders", "orders.v1", "payments", "payments.v1"))
 *     .build();
 * Outbox<Handle> outbox = Outbox.builder(storage, publisher).build().start();
 * }</pre>
 *
 * <p><b>Records.</b> The namespace picks the topic through the routing rule; the record key is the
 * message key (no key stays no key), the value its payload bytes; the headers are the message's
 * headers (UTF-8), then {@value #MESSAGE_ID_HEADER} (the message id, for consumer deduplication)
 * and {@value #NAMESPACE_HEADER}. The partition is the producer's choice from the key unless a
 * {@link Builder#router router} names one. {@link KafkaRecords} reads these back.
 *
 * <p><b>Outcomes.</b> {@link #publish} sends the whole batch asynchronously, then awaits every
 * send, at most until the producer's {@code delivery.timeout.ms} after the last send: it returns
 * once Kafka acknowledged every record ({@code acks=all}), or throws a {@link PublishException}
 * naming each failed entry as retryable (Kafka's {@link RetriableException}s: timeouts, leader
 * changes, not enough replicas; and anything unknown) or permanent (record too large, invalid
 * topic, authorization, serialization, a namespace with no topic). Each cause is a {@link
 * KafkaEntryException}.
 *
 * <p><b>Order.</b> The idempotent producer keeps each partition in send order across its retries,
 * and a key's records share a partition (same topic and record key), so a key's entries reach Kafka
 * in batch order: {@link #keepsOrder()} is true. When an entry fails, every later entry of the
 * batch with the same key (namespace and key) is reported failed (retryable) too, so the key's
 * messages are retried in order: ones that failed before they were sent are not sent at all; ones
 * already written (a record that fails at the broker after later records of its key were sent) are
 * written again on the retry (duplicates that consumers drop by message id).
 *
 * <p><b>Settings.</b> The producer must be idempotent with {@code acks=all}, {@code retries > 0},
 * at most 5 requests in flight, no {@code transactional.id} and byte-array serializers; the
 * builders refuse anything else, naming the setting, and never change a setting the caller made.
 *
 * <p>Thread-safe (the Kafka producer is); {@link #publish} blocks the calling thread. {@link
 * #close()} closes the producer only if the publisher built it.
 */
public final class KafkaPublisher implements Publisher, AutoCloseable {

  /** The header carrying the outbox message id (a UUID in its 36-character text form). */
  public static final String MESSAGE_ID_HEADER = "outbox.message-id";

  /** The header carrying the outbox namespace. */
  public static final String NAMESPACE_HEADER = "outbox.namespace";

  /** Slack over the delivery timeout before an unanswered send is given up as retryable. */
  private static final long AWAIT_SLACK_MS = 1_000;

  private final Producer<byte[], byte[]> producer;
  private final boolean ownsProducer;
  private final Function<Message, KafkaRoute> router;
  private final ProducerSettings settings;
  private final long recordLimit;
  private final String recordLimitName;
  private final boolean keepsOrder;

  private KafkaPublisher(
      Producer<byte[], byte[]> producer,
      boolean ownsProducer,
      Function<Message, KafkaRoute> router,
      ProducerSettings settings,
      boolean declaredOrder) {
    this.producer = producer;
    this.ownsProducer = ownsProducer;
    this.router = router;
    this.settings = settings;
    this.keepsOrder = declaredOrder && settings.keepsPartitionOrder;
    if (settings.bufferMemory < settings.maxRequestSize) {
      this.recordLimit = settings.bufferMemory;
      this.recordLimitName = ProducerConfig.BUFFER_MEMORY_CONFIG;
    } else {
      this.recordLimit = settings.maxRequestSize;
      this.recordLimitName = ProducerConfig.MAX_REQUEST_SIZE_CONFIG;
    }
  }

  /**
   * Starts a publisher that builds and owns its producer from this configuration ({@code
   * bootstrap.servers} required). {@code enable.idempotence=true} and {@code acks=all} are set when
   * absent; settings that would break order or lose acknowledged records are refused at {@link
   * Builder#build()}.
   */
  public static Builder builder(Map<String, ?> producerConfig) {
    Objects.requireNonNull(producerConfig, "producerConfig");
    return new Builder(null, new LinkedHashMap<>(producerConfig));
  }

  /** As {@link #builder(Map)}, from properties. */
  public static Builder builder(Properties producerConfig) {
    Objects.requireNonNull(producerConfig, "producerConfig");
    Map<String, Object> config = new LinkedHashMap<>();
    for (String name : producerConfig.stringPropertyNames()) {
      config.put(name, producerConfig.getProperty(name));
    }
    producerConfig.forEach(
        (k, v) -> {
          if (k instanceof String s) {
            config.put(s, v);
          }
        });
    return new Builder(null, config);
  }

  /**
   * Starts a publisher over a producer the caller built and keeps (never closed by the publisher).
   * A producer cannot be asked for its configuration, so pass the configuration it was built with:
   * it is checked like {@link #builder(Map)}'s, except that nothing is filled in (an absent setting
   * counts at Kafka's default: idempotence on, {@code acks=all}). What is checked is only as true
   * as that map; it also gives {@code max.request.size} for {@link #checkDeliverable} and {@code
   * delivery.timeout.ms} for how long {@link #publish} waits.
   */
  public static Builder builder(Producer<byte[], byte[]> producer, Map<String, ?> builtWith) {
    Objects.requireNonNull(producer, "producer");
    Objects.requireNonNull(builtWith, "builtWith");
    return new Builder(producer, new LinkedHashMap<>(builtWith));
  }

  /** Whether a header name is one the publisher writes itself. */
  public static boolean isReservedHeader(String name) {
    return MESSAGE_ID_HEADER.equals(name) || NAMESPACE_HEADER.equals(name);
  }

  /** The largest record size, in bytes, this publisher sends: see {@link #checkDeliverable}. */
  public long maxRecordBytes() {
    return recordLimit;
  }

  /**
   * Refuses a message that can never be sent: one whose record exceeds the producer's {@code
   * max.request.size} (or {@code buffer.memory} when smaller) by the producer's own size estimate
   * (key, payload, every header including the publisher's two, and Kafka's record and batch
   * overhead), so exactly the messages the producer would refuse; or one with a header named like
   * one of the publisher's own. The topic's or broker's own limit ({@code max.message.bytes}) is
   * not known here: a record over it fails permanently at publish time.
   *
   * @throws IllegalArgumentException naming the limit the message breaks
   */
  @Override
  public void checkDeliverable(Message message) {
    Objects.requireNonNull(message, "message");
    for (String name : message.headers().keySet()) {
      if (isReservedHeader(name)) {
        throw new IllegalArgumentException(
            "message header '" + name + "' is reserved: KafkaPublisher writes it itself");
      }
    }
    int size = RecordSizes.estimate(message);
    if (size > recordLimit) {
      throw new IllegalArgumentException(
          "message is "
              + size
              + " bytes as a Kafka record by the producer's estimate (key "
              + message.keySize()
              + ", payload "
              + message.payloadSize()
              + ", headers and overhead the rest); the producer's "
              + recordLimitName
              + " is "
              + recordLimit);
    }
  }

  /**
   * Publishes the entries; see the class description.
   *
   * @throws PublishException naming every entry that was not acknowledged, each retryable or
   *     permanent
   */
  @Override
  public void publish(List<ClaimedEntry> entries) throws PublishException {
    Objects.requireNonNull(entries, "entries");
    int n = entries.size();
    KafkaEntryException[] failed = new KafkaEntryException[n];
    List<Future<RecordMetadata>> sent = new ArrayList<>(Collections.nCopies(n, null));
    String[] topics = new String[n];
    Set<Object> failedKeys = new HashSet<>();
    Map<String, KafkaEntryException> failedTopics = new HashMap<>();
    boolean interrupted = false;

    for (int i = 0; i < n && !interrupted; i++) {
      ClaimedEntry entry = entries.get(i);
      Message m = entry.message();
      byte[] key = m.key();
      Object keyId = orderKey(m);
      KafkaRoute route;
      try {
        route = router.apply(m);
      } catch (RuntimeException e) {
        failed[i] =
            new KafkaEntryException(
                entry.messageId(),
                null,
                false,
                "the router threw for namespace '" + m.namespace() + "': " + e,
                e);
        failKey(failedKeys, keyId);
        continue;
      }
      if (route == null) {
        failed[i] =
            new KafkaEntryException(
                entry.messageId(),
                null,
                true,
                "no Kafka topic is routed for namespace '" + m.namespace() + "'",
                null);
        failKey(failedKeys, keyId);
        continue;
      }
      topics[i] = route.topic();
      String reserved = reservedHeaderIn(m);
      if (reserved != null) {
        failed[i] =
            new KafkaEntryException(
                entry.messageId(),
                route.topic(),
                true,
                "message header '" + reserved + "' is reserved: KafkaPublisher writes it itself",
                null);
        failKey(failedKeys, keyId);
        continue;
      }
      if (keyId != null && failedKeys.contains(keyId)) {
        // Held back for the key's order, unless it could never be sent anyway: then it fails
        // permanently on its own account, as it would have without the earlier failure.
        int size = RecordSizes.estimate(m);
        failed[i] =
            size > recordLimit
                ? classify(
                    entry,
                    route.topic(),
                    new RecordTooLargeException(
                        "The message is "
                            + size
                            + " bytes when serialized which is larger than "
                            + recordLimit
                            + ", which is the value of the "
                            + recordLimitName
                            + " configuration."))
                : heldBack(entry, route.topic());
        continue;
      }
      KafkaEntryException topicFailure = failedTopics.get(route.topic());
      if (topicFailure != null) {
        failed[i] =
            new KafkaEntryException(
                entry.messageId(),
                route.topic(),
                topicFailure.permanent(),
                "not sent: an earlier send to the topic in this batch failed: "
                    + topicFailure.getCause(),
                topicFailure.getCause());
        failKey(failedKeys, keyId);
        continue;
      }
      try {
        Future<RecordMetadata> f = producer.send(record(entry, route, key));
        sent.set(i, f);
        if (f.isDone()) {
          // Failed before it was queued (metadata wait, size, serialization): don't send the
          // key's later messages, and don't wait on the topic again for this batch.
          Throwable cause = failureOf(f);
          if (cause != null) {
            sent.set(i, null);
            failed[i] = classify(entry, route.topic(), cause);
            failKey(failedKeys, keyId);
            if (isTopicFailure(cause)) {
              failedTopics.put(route.topic(), failed[i]);
            }
          }
        }
      } catch (InterruptException e) {
        interrupted = true;
        failed[i] = interruptedBeforeSure(entry, route.topic(), e);
      } catch (RuntimeException e) {
        failed[i] = classify(entry, route.topic(), e);
        failKey(failedKeys, keyId);
        if (isTopicFailure(e)) {
          failedTopics.put(route.topic(), failed[i]);
        }
      }
    }

    if (!interrupted && anySent(sent)) {
      // Send the last records now rather than after linger.ms: each batch is awaited before the
      // next is claimed, so a linger per batch would cap the drain. Bounded by the delivery
      // timeout like every send.
      try {
        producer.flush();
      } catch (InterruptException e) {
        interrupted = true;
      }
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(awaitMillis());
    for (int i = 0; i < n; i++) {
      ClaimedEntry entry = entries.get(i);
      if (sent.get(i) == null) {
        if (failed[i] == null) {
          failed[i] = interruptedBeforeSure(entry, topics[i], null);
        }
        continue;
      }
      if (interrupted && !sent.get(i).isDone()) {
        failed[i] = interruptedBeforeSure(entry, topics[i], null);
        continue;
      }
      try {
        sent.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (ExecutionException e) {
        failed[i] = classify(entry, topics[i], e.getCause() == null ? e : e.getCause());
      } catch (java.util.concurrent.TimeoutException e) {
        failed[i] =
            new KafkaEntryException(
                entry.messageId(),
                topics[i],
                false,
                "no acknowledgement within "
                    + ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG
                    + " ("
                    + settings.deliveryTimeoutMs
                    + " ms) plus "
                    + AWAIT_SLACK_MS
                    + " ms; it may still be written",
                e);
      } catch (InterruptedException e) {
        interrupted = true;
        failed[i] = interruptedBeforeSure(entry, topics[i], e);
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }

    // A key's messages go in batch order: after a failure, its later messages are retried too.
    PublishException.Builder failures = PublishException.builder();
    failedKeys.clear();
    for (int i = 0; i < n; i++) {
      ClaimedEntry entry = entries.get(i);
      Object keyId = orderKey(entry.message());
      if (failed[i] == null && keyId != null && failedKeys.contains(keyId)) {
        failed[i] = heldBack(entry, topics[i]);
      }
      if (failed[i] != null) {
        failKey(failedKeys, keyId);
        if (failed[i].permanent()) {
          failures.permanent(entry, failed[i]);
        } else {
          failures.retryable(entry, failed[i]);
        }
      }
    }
    failures.throwIfAny();
  }

  /**
   * Whether one call keeps each key's order, so that an outbox over an ordered storage may hand
   * this publisher a key's whole run at once. True when the producer keeps each partition in send
   * order across retries (idempotence with at most 5 requests in flight, or 1 in flight; the
   * builders refuse anything else) and the builder was not told {@link Builder#keepsOrder
   * keepsOrder(false)}.
   *
   * <p>A key's records go to one partition (same topic, same record key, the producer's
   * partitioner) in list order; once one fails, the key's later entries of the call fail retryably:
   * those not yet sent are not sent. A router that picks partitions itself must keep a key on one
   * partition.
   */
  @Override
  public boolean keepsOrder() {
    return keepsOrder;
  }

  /** Closes the producer when this publisher built it; a caller's producer stays open. */
  @Override
  public void close() {
    if (ownsProducer) {
      producer.close(Duration.ofMillis(settings.deliveryTimeoutMs));
    }
  }

  private long awaitMillis() {
    return settings.deliveryTimeoutMs + AWAIT_SLACK_MS;
  }

  private ProducerRecord<byte[], byte[]> record(ClaimedEntry entry, KafkaRoute route, byte[] key) {
    Message m = entry.message();
    return new ProducerRecord<>(
        route.topic(), route.partition(), null, key, m.payload(), headers(entry.messageId(), m));
  }

  /** The record headers of a message: its own, then the message id and the namespace. */
  static RecordHeaders headers(UUID messageId, Message m) {
    RecordHeaders headers = new RecordHeaders();
    m.headers().forEach((name, value) -> headers.add(name, value.getBytes(StandardCharsets.UTF_8)));
    headers.add(MESSAGE_ID_HEADER, messageId.toString().getBytes(StandardCharsets.US_ASCII));
    headers.add(NAMESPACE_HEADER, m.namespace().getBytes(StandardCharsets.UTF_8));
    return headers;
  }

  private static boolean anySent(List<Future<RecordMetadata>> sent) {
    for (Future<RecordMetadata> f : sent) {
      if (f != null) {
        return true;
      }
    }
    return false;
  }

  private static String reservedHeaderIn(Message m) {
    for (String name : m.headers().keySet()) {
      if (isReservedHeader(name)) {
        return name;
      }
    }
    return null;
  }

  /**
   * What the outbox keeps in order ({@code Publisher.keepsOrder()}): namespace and key; {@code
   * null} for a message without a key, which is never ordered.
   */
  private static Object orderKey(Message m) {
    byte[] key = m.key();
    return key == null ? null : List.of(m.namespace(), ByteBuffer.wrap(key));
  }

  private static void failKey(Set<Object> failedKeys, Object keyId) {
    if (keyId != null) {
      failedKeys.add(keyId);
    }
  }

  private static Throwable failureOf(Future<RecordMetadata> f) {
    try {
      f.get();
      return null;
    } catch (ExecutionException e) {
      return e.getCause() == null ? e : e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return e;
    }
  }

  private static KafkaEntryException heldBack(ClaimedEntry entry, String topic) {
    return new KafkaEntryException(
        entry.messageId(),
        topic,
        false,
        "an earlier message of the same key failed in this batch; retried after it to keep the"
            + " key's order",
        null);
  }

  private static KafkaEntryException interruptedBeforeSure(
      ClaimedEntry entry, String topic, Throwable cause) {
    return new KafkaEntryException(
        entry.messageId(),
        topic,
        false,
        "interrupted before Kafka acknowledged it; it may or may not have been written",
        cause);
  }

  static KafkaEntryException classify(ClaimedEntry entry, String topic, Throwable cause) {
    return new KafkaEntryException(
        entry.messageId(), topic, isPermanent(cause), cause.toString(), cause);
  }

  /**
   * Message faults no retry can fix. Everything else, Kafka's {@link RetriableException}s first
   * among them, is retryable: an unknown failure is retried (and eventually dead-lettered by the
   * outbox's {@code maxAttempts}) rather than dropped at once.
   */
  static boolean isPermanent(Throwable cause) {
    if (cause instanceof RetriableException) {
      return false;
    }
    return cause instanceof RecordTooLargeException
        || cause instanceof RecordBatchTooLargeException
        || cause instanceof InvalidTopicException
        || cause instanceof AuthorizationException
        || cause instanceof AuthenticationException
        || cause instanceof SerializationException;
  }

  /** Failures that every send to the same topic in this batch would meet as well. */
  private static boolean isTopicFailure(Throwable cause) {
    return cause instanceof TimeoutException
        || cause instanceof InvalidTopicException
        || cause instanceof TopicAuthorizationException
        || cause instanceof UnknownTopicOrPartitionException;
  }

  /**
   * Builds a {@link KafkaPublisher}. Route with {@link #router} alone, or with {@link #routes}
   * and/or {@link #topic} (the map first, the topic for every namespace the map lacks). {@link
   * #build()} checks the routing and the producer configuration and names every bad setting.
   */
  public static final class Builder {
    private final Producer<byte[], byte[]> producer;
    private final Map<String, Object> config;
    private Map<String, String> routes;
    private String defaultTopic;
    private Function<Message, KafkaRoute> router;
    private boolean keepsOrder = true;

    private Builder(Producer<byte[], byte[]> producer, Map<String, Object> config) {
      this.producer = producer;
      this.config = config;
    }

    /**
     * Routes every namespace (or, with {@link #routes}, every namespace the map lacks) to this
     * topic.
     */
    public Builder topic(String topic) {
      this.defaultTopic = topic;
      return this;
    }

    /**
     * Routes by namespace (copied at {@link #build()}). A namespace neither in the map nor covered
     * by {@link #topic} fails its entry alone, permanently.
     */
    public Builder routes(Map<String, String> namespaceToTopic) {
      this.routes = namespaceToTopic;
      return this;
    }

    /**
     * Routes with a function, called once per entry: return the topic (and, to choose it yourself,
     * the partition), or {@code null} when the message has nowhere to go (its entry then fails
     * alone, permanently). A router that throws fails the entry retryably.
     */
    public Builder router(Function<Message, KafkaRoute> router) {
      this.router = router;
      return this;
    }

    /**
     * Declares {@link KafkaPublisher#keepsOrder()}; default {@code true}, which the producer
     * settings the builder accepts always back. Say {@code false} when a {@link #router} may send
     * messages of one key (namespace and key) to different partitions or topics over time: an
     * outbox over an ordered storage then hands the publisher one message per key per call.
     */
    public Builder keepsOrder(boolean keepsOrder) {
      this.keepsOrder = keepsOrder;
      return this;
    }

    /**
     * Builds the publisher, and the producer when the builder was given a configuration.
     *
     * @throws IllegalArgumentException naming every bad setting: the routing, and producer settings
     *     that would break order or lose acknowledged records
     */
    public KafkaPublisher build() {
      List<String> errors = new ArrayList<>();
      Function<Message, KafkaRoute> rule = routing(errors);
      ProducerSettings settings = null;
      try {
        settings =
            producer == null
                ? ProducerSettings.forNewProducer(config)
                : ProducerSettings.forExistingProducer(config);
      } catch (IllegalArgumentException e) {
        errors.add(e.getMessage());
      }
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(
            "KafkaPublisher is misconfigured: " + String.join("; ", errors));
      }
      if (producer != null) {
        return new KafkaPublisher(producer, false, rule, settings, keepsOrder);
      }
      Map<String, Object> producerConfig = new LinkedHashMap<>(settings.config);
      producerConfig.remove(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG);
      producerConfig.remove(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);
      KafkaProducer<byte[], byte[]> built =
          new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
      return new KafkaPublisher(built, true, rule, settings, keepsOrder);
    }

    private Function<Message, KafkaRoute> routing(List<String> errors) {
      if (router != null) {
        if (routes != null || defaultTopic != null) {
          errors.add("set router alone, or routes and/or topic, not both");
        }
        return router;
      }
      if (routes == null && defaultTopic == null) {
        errors.add("no routing: set topic, routes or router");
        return null;
      }
      Map<String, KafkaRoute> table = new HashMap<>();
      if (routes != null) {
        routes.forEach(
            (namespace, topic) -> {
              if (namespace == null || topic == null) {
                errors.add("routes has a null namespace or topic");
                return;
              }
              String problem = TopicNames.problem(topic);
              if (problem != null) {
                errors.add("routes['" + namespace + "']: " + problem);
              } else {
                table.put(namespace, KafkaRoute.topic(topic));
              }
            });
      }
      KafkaRoute fallback = null;
      if (defaultTopic != null) {
        String problem = TopicNames.problem(defaultTopic);
        if (problem != null) {
          errors.add("topic: " + problem);
        } else {
          fallback = KafkaRoute.topic(defaultTopic);
        }
      }
      KafkaRoute otherwise = fallback;
      return m -> table.getOrDefault(m.namespace(), otherwise);
    }
  }
}
