package dev.outbox.spring.boot;

import dev.outbox.BlockedKey;
import dev.outbox.DeadLetter;
import dev.outbox.DeadLetters;
import dev.outbox.Outbox;
import dev.outbox.OutboxConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code outbox} Actuator endpoint.
 *
 * <ul>
 *   <li>{@code GET /actuator/outbox}: the processor's state on this instance and the backlog
 *       (pending, claimed, failing, dead letters, the oldest pending entry's age).
 *   <li>{@code GET /actuator/outbox/dead-letters?afterId=0&limit=50}: dead letters, smallest id
 *       first (payloads are not shown, only their size).
 *   <li>{@code POST /actuator/outbox/dead-letters/requeue} with {@code {"ids":"1,2"}} or {@code
 *       {"all":true}}: moves dead letters back into the outbox with attempts reset. (Actuator takes
 *       scalar values in a request body only, so ids are one comma-separated string.)
 *   <li>{@code POST /actuator/outbox/dead-letters/purge}, the same body: deletes dead letters for
 *       good.
 *   <li>{@code GET /actuator/outbox/blocked-keys?limit=50}: with ordering {@code BY_KEY_BLOCKING},
 *       the keys that dead letters hold back, each with the ids of those dead letters and how many
 *       messages wait behind them. Unblock a key by requeueing its dead letters (retry them first)
 *       or purging them (skip them).
 * </ul>
 *
 * <p>Like every endpoint it is exposed over HTTP only when listed in {@code
 * management.endpoints.web.exposure.include}; its write operations change data, so secure it as you
 * secure the other write endpoints.
 */
@Endpoint(id = "outbox")
public class OutboxEndpoint {

  static final String DEAD_LETTERS = "dead-letters";
  static final String BLOCKED_KEYS = "blocked-keys";
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 1000;

  private final Outbox<?> outbox;
  private final boolean processorEnabled;

  /**
   * Creates the endpoint.
   *
   * @param outbox the outbox
   * @param processorEnabled whether this instance runs the processor
   */
  public OutboxEndpoint(Outbox<?> outbox, boolean processorEnabled) {
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.processorEnabled = processorEnabled;
  }

  /** The processor's state and the backlog. */
  @ReadOperation
  public Map<String, Object> summary() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("processorId", outbox.processorId());
    m.put("processor", OutboxViews.processor(outbox, processorEnabled));
    m.put("backlog", outbox.supportsStats() ? OutboxViews.backlog(outbox.stats()) : null);
    m.put("deadLettersSupported", outbox.supportsDeadLetters());
    m.put("ordering", outbox.ordering().name());
    OutboxConfig c = outbox.config();
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("batchSize", c.batchSize());
    config.put("maxAttempts", c.maxAttempts() == 0 ? "unlimited" : c.maxAttempts());
    config.put("claimDuration", c.claimDuration().toString());
    config.put("processInterval", c.processInterval().toString());
    config.put("publishTimeout", c.publishTimeout().toString());
    m.put("config", config);
    return m;
  }

  /**
   * {@code dead-letters}: dead letters with an id above {@code afterId} (default 0), at most {@code
   * limit} (default 50, at most 1000), smallest id first. {@code blocked-keys}: the keys dead
   * letters hold back (ordering {@code BY_KEY_BLOCKING}; else none), at most {@code limit}.
   */
  @ReadOperation
  public Map<String, Object> deadLetters(
      @Selector String section, @Nullable Long afterId, @Nullable Integer limit) {
    int n = limit == null ? DEFAULT_LIMIT : limit;
    if (n < 1 || n > MAX_LIMIT) {
      throw new InvalidEndpointRequestException(
          "limit is " + n + "; allowed 1 to " + MAX_LIMIT, "limit out of range");
    }
    if (BLOCKED_KEYS.equals(section)) {
      List<Map<String, Object>> keys = new ArrayList<>();
      if (outbox.supportsDeadLetters()) {
        for (BlockedKey k : outbox.deadLetters().blockedKeys(n)) {
          keys.add(OutboxViews.blockedKey(k));
        }
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("ordering", outbox.ordering().name());
      m.put("blockedKeys", keys);
      return m;
    }
    DeadLetters dl = deadLetters(section);
    long after = afterId == null ? 0 : afterId;
    List<DeadLetter> page = dl.list(after, n);
    List<Map<String, Object>> items = new ArrayList<>(page.size());
    for (DeadLetter d : page) {
      items.add(OutboxViews.deadLetter(d));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("deadLetters", items);
    m.put("nextAfterId", page.size() == n ? page.get(page.size() - 1).id() : null);
    return m;
  }

  /**
   * Requeues or purges dead letters: {@code action} is {@code requeue} or {@code purge}; give
   * either {@code ids} (comma-separated) or {@code all=true}.
   */
  @WriteOperation
  public Map<String, Object> deadLetterAction(
      @Selector String section,
      @Selector String action,
      long @Nullable [] ids,
      @Nullable Boolean all) {
    DeadLetters dl = deadLetters(section);
    boolean everything = Boolean.TRUE.equals(all);
    boolean some = ids != null && ids.length > 0;
    if (everything == some) {
      throw new InvalidEndpointRequestException(
          "give either ids (dead-letter ids, comma-separated) or all=true, not "
              + (everything ? "both" : "neither"),
          "give either ids or all=true");
    }
    int n;
    switch (action) {
      case "requeue" -> n = everything ? dl.requeueAll() : dl.requeue(ids);
      case "purge" -> n = everything ? dl.purgeAll() : dl.purge(ids);
      default ->
          throw new InvalidEndpointRequestException(
              "unknown action '" + action + "'; use requeue or purge", "unknown action");
    }
    if (n > 0 && action.equals("requeue")) {
      outbox.wakeProcessor();
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(action.equals("requeue") ? "requeued" : "purged", n);
    return m;
  }

  private DeadLetters deadLetters(String section) {
    if (!DEAD_LETTERS.equals(section)) {
      throw new InvalidEndpointRequestException(
          "unknown part '"
              + section
              + "' of the outbox endpoint; the parts are "
              + DEAD_LETTERS
              + " and "
              + BLOCKED_KEYS,
          "unknown part of the outbox endpoint");
    }
    if (!outbox.supportsDeadLetters()) {
      throw new InvalidEndpointRequestException(
          "the outbox's storage keeps no dead letters", "no dead letters");
    }
    return outbox.deadLetters();
  }
}
