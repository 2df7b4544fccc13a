package dev.outbox.sqs;

import dev.outbox.ClaimedEntry;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

/**
 * Publishes outbox entries to Amazon SQS queues with SendMessageBatch.
 *
 * <pre>{@code
 * SqsPublisher publisher = SqsPublisher.builder(sqsAsyncClient)
 *     .routes(Map.of("orders", ordersQueueUrl, "invoices", invoicesFifoQueueUrl))
 *     .build();
 * }</pre>
 *
 * <p>The client stays the caller's: its credentials, region, endpoint, retries and timeouts apply,
 * and the publisher never closes it. Each message's namespace picks its queue through the routing
 * rule; a message whose namespace has no queue fails alone, permanently.
 *
 * <p>A batch is split per queue into SendMessageBatch requests of at most {@code maxBatchEntries}
 * entries and {@code maxBatchBytes} bytes, sent concurrently (at most {@code maxInFlightRequests}
 * at a time). On a FIFO queue (URL ending in {@code .fifo}) a request waits for the earlier
 * requests holding messages of the same message group, so every group reaches SQS in outbox order,
 * and holds at most one message per key (namespace and key), so a message SQS refuses cannot be
 * overtaken by a later one of its key in the same request. Once a message fails (retryably or for
 * good), the later messages of its key in the call are not sent: they fail retryably, to follow it.
 * Hence {@link #keepsOrder()} when every queue is FIFO.
 *
 * <p>Every message carries its {@link ClaimedEntry#messageId()} as the {@value
 * SqsMessages#MESSAGE_ID} attribute and, on a FIFO queue, as the {@code MessageDeduplicationId}:
 * unique beyond its outbox table, so outboxes sharing a queue never deduplicate each other's
 * messages. {@link #checkDeliverable} lets {@code Outbox.publish} refuse, in the caller's
 * transaction, a message SQS could never carry, by the same rules {@link #publish} applies.
 *
 * <p>Every outcome is mapped back to its entry id: a failure SQS reports for one entry, a request
 * that failed as a whole, or an entry SQS's response does not mention (never counted as sent).
 * Message faults that no retry can fix are permanent; the rest is retryable. See the module README
 * for the wire format ({@link SqsMessages} reads it back) and the lists.
 *
 * <p>Thread-safe; {@link #publish} blocks the calling thread until every request has completed.
 */
public final class SqsPublisher implements Publisher {

  private static final Logger log = LoggerFactory.getLogger(SqsPublisher.class);

  /** What {@link #checkDeliverable} encodes with: every UUID has the same length on SQS. */
  private static final UUID ANY_MESSAGE_ID = new UUID(0L, 0L);

  private final Function<String, Optional<String>> router;
  private final boolean staticRouting;
  private final EntryMapper mapper;
  private final BatchSender sender;
  private final int maxBatchEntries;
  private final int maxBatchBytes;
  private final boolean keepsOrder;
  private final Set<String> warnedUnordered = ConcurrentHashMap.newKeySet();

  private SqsPublisher(Builder b, Function<String, Optional<String>> router) {
    this.router = router;
    this.staticRouting = b.router == null;
    this.keepsOrder = b.keepsOrder != null ? b.keepsOrder : b.everyStaticQueueFifo();
    this.mapper = new EntryMapper(b.maxMessageBytes, b.groupIdFunction, b.defaultGroupId);
    this.sender = new BatchSender(b.client, b.maxInFlightRequests);
    this.maxBatchEntries = b.maxBatchEntries;
    this.maxBatchBytes = b.maxBatchBytes;
  }

  /** Starts a publisher over the caller's client; set one routing rule, then {@code build()}. */
  public static Builder builder(SqsAsyncClient client) {
    return new Builder(client);
  }

  /** Whether a queue URL names a FIFO queue: its name ends in {@code .fifo}. */
  public static boolean isFifo(String queueUrl) {
    return queueUrl.endsWith(".fifo");
  }

  /**
   * Whether one call keeps each key's order, so that an outbox over an ordered storage may hand
   * this publisher a key's whole run at once: true when every queue it routes to is a FIFO queue
   * known at build time (a FIFO {@code queueUrl}, or {@code routes} to FIFO queues only), false
   * with a standard queue or a {@code router}, unless the builder's {@link Builder#keepsOrder} said
   * otherwise.
   *
   * <p>A key's messages go to one FIFO group (namespace picks the queue, key the group), one
   * request after another; once one fails, the key's later messages of the call are not sent and
   * fail retryably.
   */
  @Override
  public boolean keepsOrder() {
    return keepsOrder;
  }

  /**
   * Publishes the entries; see the class description.
   *
   * @throws PublishException naming every entry that was not accepted, each retryable or permanent
   * @throws IllegalArgumentException when two entries have the same id
   */
  @Override
  public void publish(List<ClaimedEntry> entries) throws PublishException {
    Objects.requireNonNull(entries, "entries");
    if (entries.isEmpty()) {
      return;
    }
    Outcomes outcomes = new Outcomes();
    List<PreparedEntry> prepared = prepare(entries, outcomes);
    List<Batch> batches = Batch.plan(prepared, maxBatchEntries, maxBatchBytes);
    try {
      sender.sendAll(batches, outcomes);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      for (ClaimedEntry entry : entries) {
        if (!outcomes.known(entry.id())) {
          outcomes.retryable(
              entry.id(),
              new SqsEntryException(
                  "interrupted while publishing; message "
                      + entry.id()
                      + " may or may not have reached SQS",
                  entry.id(),
                  null,
                  null,
                  false,
                  e));
        }
      }
    }
    log.debug(
        "sent {} of {} entries in {} SendMessageBatch requests",
        outcomes.sentCount(),
        entries.size(),
        batches.size());
    outcomes.throwIfAnyFailed(entries);
  }

  /**
   * Refuses, at write time, a message this publisher could never send, by the same rules {@link
   * #publish} applies (one implementation of them): its size as SQS counts it (the body after
   * Base64 when the payload is not SQS text, plus every attribute's name, data type and value,
   * including the publisher's own) against {@code maxMessageBytes}; its attribute count, including
   * the publisher's own, against SQS's 10; header names against SQS's rules and the reserved
   * {@value SqsMessages#RESERVED_PREFIX} prefix; header values and the namespace against the
   * characters SQS accepts.
   *
   * <p>With a static routing rule ({@code queueUrl} or {@code routes}) it also refuses a namespace
   * that has no queue and, for a FIFO queue, a message group id SQS would refuse. A routing
   * function is not called here (it may be expensive or change over time); its verdict, and a group
   * id function that throws, are left to {@link #publish}.
   *
   * @throws IllegalArgumentException naming the limit and the message's figure
   */
  @Override
  public void checkDeliverable(dev.outbox.Message message) {
    Objects.requireNonNull(message, "message");
    String queueUrl = null;
    if (staticRouting) {
      Optional<String> route = router.apply(message.namespace());
      if (route.isEmpty()) {
        throw new IllegalArgumentException(
            "no SQS queue is routed for namespace '" + message.namespace() + "'");
      }
      queueUrl = route.get();
    }
    try {
      mapper.encode(message, ANY_MESSAGE_ID);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the SQS message " + e.getMessage());
    }
    if (queueUrl != null && isFifo(queueUrl)) {
      String groupId;
      try {
        groupId = mapper.groupId(message);
      } catch (RuntimeException e) {
        log.debug("groupIdFunction threw at write time; publish will report it", e);
        return;
      }
      String problem = EntryMapper.groupIdProblem(groupId);
      if (problem != null) {
        throw new IllegalArgumentException(
            "the SQS message for FIFO queue "
                + queueUrl
                + " would have message group id "
                + (groupId == null ? "null" : "'" + groupId + "'")
                + ": "
                + problem);
      }
    }
  }

  private List<PreparedEntry> prepare(List<ClaimedEntry> entries, Outcomes outcomes) {
    Set<Long> ids = new HashSet<>();
    for (ClaimedEntry entry : entries) {
      if (!ids.add(entry.id())) {
        throw new IllegalArgumentException(
            "entry id " + entry.id() + " appears twice in the batch");
      }
    }
    List<PreparedEntry> prepared = new ArrayList<>(entries.size());
    Set<Object> failedKeys = new HashSet<>();
    for (ClaimedEntry entry : entries) {
      PreparedEntry p = prepare(entry, outcomes);
      Object key = PreparedEntry.orderKey(entry);
      if (p == null) {
        // Failed before sending: on a FIFO queue the key's later messages must not overtake it.
        if (key != null) {
          failedKeys.add(key);
        }
      } else if (key != null && isFifo(p.queueUrl()) && failedKeys.contains(key)) {
        outcomes.retryable(
            p.id(),
            new SqsEntryException(
                "message "
                    + p.id()
                    + " was not sent: an earlier message of its key failed in this call, and"
                    + " sending this one now would put it out of order",
                p.id(),
                p.queueUrl(),
                null,
                false,
                null));
      } else {
        prepared.add(p);
      }
    }
    return prepared;
  }

  /** The entry ready to send, or {@code null} after recording why it cannot be sent. */
  private PreparedEntry prepare(ClaimedEntry entry, Outcomes outcomes) {
    long id = entry.id();
    String namespace = entry.message().namespace();
    Optional<String> queueUrl;
    try {
      queueUrl = router.apply(namespace);
    } catch (RuntimeException e) {
      outcomes.retryable(
          id,
          new SqsEntryException(
              "the router threw for namespace '" + namespace + "' (message " + id + "): " + e,
              id,
              null,
              null,
              false,
              e));
      return null;
    }
    if (queueUrl == null || queueUrl.isEmpty()) {
      outcomes.permanent(
          id,
          SqsEntryException.rejected(
              id,
              null,
              "no SQS queue is routed for namespace '" + namespace + "' (message " + id + ")"));
      return null;
    }
    String url = queueUrl.get();
    if (url.isBlank()) {
      outcomes.retryable(
          id,
          new SqsEntryException(
              "the router gave a blank queue URL for namespace '"
                  + namespace
                  + "' (message "
                  + id
                  + ")",
              id,
              null,
              null,
              false,
              null));
      return null;
    }
    warnIfUnordered(namespace, url);
    try {
      return mapper.map(entry, url, isFifo(url));
    } catch (SqsEntryException e) {
      outcomes.permanent(id, e);
    } catch (RuntimeException e) {
      outcomes.retryable(
          id,
          new SqsEntryException(
              "the group id function threw for message " + id + ": " + e, id, url, null, false, e));
    }
    return null;
  }

  /** Warns once per queue when a router sends messages of an order-keeping publisher elsewhere. */
  private void warnIfUnordered(String namespace, String url) {
    if (keepsOrder && !isFifo(url) && warnedUnordered.add(url)) {
      log.warn(
          "SqsPublisher was declared to keep order (keepsOrder(true)), but its router sends"
              + " namespace '{}' to {}, a standard queue, which keeps no order: messages of one"
              + " key may arrive out of order. Route ordered namespaces to FIFO queues, or build"
              + " the publisher with keepsOrder(false).",
          namespace,
          url);
    }
  }

  /**
   * Builds an {@link SqsPublisher}. Set exactly one routing rule ({@link #queueUrl}, {@link
   * #routes} or {@link #router}); every other setting has a default. {@link #build()} checks them
   * all at once and names every bad one with its allowed range.
   *
   * <table>
   *   <caption>Settings</caption>
   *   <tr><th>setting</th><th>default</th><th>allowed</th></tr>
   *   <tr><td>maxMessageBytes</td><td>262,144 (256 KiB)</td><td>1 to 1,048,576</td></tr>
   *   <tr><td>maxBatchBytes</td><td>262,144 (256 KiB)</td><td>maxMessageBytes to
   *   1,048,576</td></tr>
   *   <tr><td>maxBatchEntries</td><td>10</td><td>1 to 10</td></tr>
   *   <tr><td>maxInFlightRequests</td><td>16</td><td>1 to 1,024</td></tr>
   *   <tr><td>defaultGroupId</td><td>{@code outbox-default}</td><td>1 to 128 letters, digits,
   *   ASCII punctuation</td></tr>
   *   <tr><td>groupIdFunction</td><td>key as text when it is 1 to 128 printable ASCII characters,
   *   else {@code sha256-} + hex digest</td><td>any function</td></tr>
   * </table>
   */
  public static final class Builder {

    /** SQS's own limit for a message and for a SendMessageBatch request (since 2025). */
    public static final int SQS_MAX_BYTES = 1024 * 1024;

    /** The limit SQS had until 2025, which ElasticMQ and older setups still enforce. */
    public static final int DEFAULT_MAX_BYTES = 256 * 1024;

    /** SQS: at most 10 entries per SendMessageBatch request. */
    public static final int SQS_MAX_BATCH_ENTRIES = 10;

    static final int MAX_IN_FLIGHT = 1024;

    private final SqsAsyncClient client;
    private String queueUrl;
    private Map<String, String> routes;
    private Function<String, Optional<String>> router;
    private int maxMessageBytes = DEFAULT_MAX_BYTES;
    private int maxBatchBytes = DEFAULT_MAX_BYTES;
    private int maxBatchEntries = SQS_MAX_BATCH_ENTRIES;
    private int maxInFlightRequests = 16;
    private String defaultGroupId = "outbox-default";
    private Function<byte[], String> groupIdFunction = EntryMapper::defaultGroupId;
    private Boolean keepsOrder;

    private Builder(SqsAsyncClient client) {
      this.client = client;
    }

    /** Routes every namespace to this one queue. */
    public Builder queueUrl(String queueUrl) {
      this.queueUrl = queueUrl;
      return this;
    }

    /** Routes the namespaces of the map (copied) to their queues; any other fails permanently. */
    public Builder routes(Map<String, String> routes) {
      this.routes = routes == null ? null : new LinkedHashMap<>(routes);
      return this;
    }

    /**
     * Routes by a function from namespace to queue URL; empty means no route (the message fails
     * permanently). It is called once per entry, from the publishing thread; if it throws, the
     * entry fails retryably.
     */
    public Builder router(Function<String, Optional<String>> router) {
      this.router = router;
      return this;
    }

    /**
     * The largest message sent, in bytes as SQS counts them: the body (after Base64, when used)
     * plus every attribute's name, data type and value. Larger messages fail permanently. SQS
     * allows 1 MiB since 2025 (for queues whose {@code MaximumMessageSize} allows it); the default
     * keeps the older 256 KiB that every SQS-compatible server accepts.
     */
    public Builder maxMessageBytes(int maxMessageBytes) {
      this.maxMessageBytes = maxMessageBytes;
      return this;
    }

    /** The largest SendMessageBatch request, in the same bytes, summed over its entries. */
    public Builder maxBatchBytes(int maxBatchBytes) {
      this.maxBatchBytes = maxBatchBytes;
      return this;
    }

    /** The most entries per SendMessageBatch request (SQS allows 10). */
    public Builder maxBatchEntries(int maxBatchEntries) {
      this.maxBatchEntries = maxBatchEntries;
      return this;
    }

    /** The most SendMessageBatch requests one {@code publish} call has outstanding at a time. */
    public Builder maxInFlightRequests(int maxInFlightRequests) {
      this.maxInFlightRequests = maxInFlightRequests;
      return this;
    }

    /** The FIFO message group of messages without a key. */
    public Builder defaultGroupId(String defaultGroupId) {
      this.defaultGroupId = defaultGroupId;
      return this;
    }

    /**
     * How a FIFO message group id is made from a message's (non-null) key. It must be
     * deterministic: every message of one key must land in the same group. A result SQS refuses
     * (empty, over 128 characters, characters other than letters, digits and ASCII punctuation)
     * fails the message permanently; a function that throws fails it retryably.
     */
    public Builder groupIdFunction(Function<byte[], String> groupIdFunction) {
      this.groupIdFunction = groupIdFunction;
      return this;
    }

    /**
     * Declares {@link SqsPublisher#keepsOrder()}. Unset, it is derived from the routing: true when
     * every queue is FIFO and known now ({@link #queueUrl} or {@link #routes}), false otherwise.
     *
     * <ul>
     *   <li>{@code false} is always allowed: an outbox over an ordered storage then hands the
     *       publisher one message per key per call (slower for hot keys, equally ordered).
     *   <li>{@code true} with {@link #queueUrl} or {@link #routes} is checked: {@link #build()}
     *       refuses it when a queue is not FIFO.
     *   <li>{@code true} with a {@link #router} cannot be checked, so it is your promise: the
     *       router sends every message of a namespace to the same FIFO queue, whenever it is asked.
     *       The publisher logs a warning (once per queue) when the router returns a standard queue.
     * </ul>
     */
    public Builder keepsOrder(boolean keepsOrder) {
      this.keepsOrder = keepsOrder;
      return this;
    }

    /** Whether the routing is static ({@code queueUrl} or non-empty {@code routes}), all FIFO. */
    private boolean everyStaticQueueFifo() {
      if (router != null) {
        return false;
      }
      if (queueUrl != null) {
        return isFifo(queueUrl);
      }
      return routes != null
          && !routes.isEmpty()
          && routes.values().stream().allMatch(url -> url != null && isFifo(url));
    }

    /**
     * Builds the publisher.
     *
     * @throws IllegalArgumentException naming every bad setting, with its value and allowed range
     */
    public SqsPublisher build() {
      List<String> errors = new ArrayList<>();
      if (client == null) {
        errors.add("client is null; pass your SqsAsyncClient to SqsPublisher.builder(client)");
      }
      Function<String, Optional<String>> rule = routingRule(errors);
      checkRange(errors, "maxMessageBytes", maxMessageBytes, 1, SQS_MAX_BYTES);
      checkRange(errors, "maxBatchBytes", maxBatchBytes, 1, SQS_MAX_BYTES);
      if (maxBatchBytes < maxMessageBytes) {
        errors.add(
            "maxBatchBytes is "
                + maxBatchBytes
                + "; it must be at least maxMessageBytes ("
                + maxMessageBytes
                + ")");
      }
      checkRange(errors, "maxBatchEntries", maxBatchEntries, 1, SQS_MAX_BATCH_ENTRIES);
      checkRange(errors, "maxInFlightRequests", maxInFlightRequests, 1, MAX_IN_FLIGHT);
      String groupProblem = EntryMapper.groupIdProblem(defaultGroupId);
      if (groupProblem != null) {
        errors.add(
            "defaultGroupId is "
                + (defaultGroupId == null ? "null" : "'" + defaultGroupId + "'")
                + ": "
                + groupProblem);
      }
      if (groupIdFunction == null) {
        errors.add("groupIdFunction is null");
      }
      if (Boolean.TRUE.equals(keepsOrder) && router == null && !everyStaticQueueFifo()) {
        errors.add(
            "keepsOrder is true, but "
                + (queueUrl != null ? "queueUrl " + queueUrl + " is" : "not every routed queue is")
                + " a FIFO queue (a name ending in .fifo); only FIFO queues keep order");
      }
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(
            "invalid SqsPublisher settings: " + String.join("; ", errors));
      }
      log.info(
          "SqsPublisher routing {}, keepsOrder {}, maxMessageBytes {}, maxBatchBytes {},"
              + " maxBatchEntries {}, maxInFlightRequests {}, defaultGroupId {}",
          describeRouting(),
          keepsOrder != null ? keepsOrder : everyStaticQueueFifo(),
          maxMessageBytes,
          maxBatchBytes,
          maxBatchEntries,
          maxInFlightRequests,
          defaultGroupId);
      return new SqsPublisher(this, rule);
    }

    private Function<String, Optional<String>> routingRule(List<String> errors) {
      int rules = (queueUrl != null ? 1 : 0) + (routes != null ? 1 : 0) + (router != null ? 1 : 0);
      if (rules != 1) {
        errors.add(
            "set exactly one routing rule (queueUrl, routes or router); "
                + (rules == 0 ? "none is set" : rules + " are set"));
        return null;
      }
      if (queueUrl != null) {
        if (queueUrl.isBlank()) {
          errors.add("queueUrl is blank");
        }
        Optional<String> fixed = Optional.of(queueUrl);
        return namespace -> fixed;
      }
      if (routes != null) {
        for (Map.Entry<String, String> r : routes.entrySet()) {
          if (r.getKey() == null || r.getValue() == null || r.getValue().isBlank()) {
            errors.add(
                "routes maps namespace "
                    + r.getKey()
                    + " to "
                    + (r.getValue() == null ? "null" : "'" + r.getValue() + "'")
                    + "; both must be set and the queue URL not blank");
          }
        }
        Map<String, String> copy = Map.copyOf(routesWithoutNulls());
        return namespace -> Optional.ofNullable(copy.get(namespace));
      }
      return router;
    }

    private Map<String, String> routesWithoutNulls() {
      Map<String, String> clean = new LinkedHashMap<>();
      routes.forEach(
          (k, v) -> {
            if (k != null && v != null) {
              clean.put(k, v);
            }
          });
      return clean;
    }

    private String describeRouting() {
      if (queueUrl != null) {
        return "every namespace to " + queueUrl;
      }
      if (routes != null) {
        return routes.toString();
      }
      return "by function " + router;
    }

    private static void checkRange(List<String> errors, String name, int value, int min, int max) {
      if (value < min || value > max) {
        errors.add(name + " is " + value + "; allowed " + min + " to " + max);
      }
    }
  }
}
