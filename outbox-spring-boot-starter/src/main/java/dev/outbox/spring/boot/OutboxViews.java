package dev.outbox.spring.boot;

import dev.outbox.BlockedKey;
import dev.outbox.DeadLetter;
import dev.outbox.Outbox;
import dev.outbox.OutboxHealth;
import dev.outbox.OutboxStats;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/** Plain maps of the outbox's state, for the endpoint and the health indicator. */
final class OutboxViews {

  private OutboxViews() {}

  static Map<String, Object> processor(Outbox<?> outbox, boolean enabledHere) {
    OutboxHealth h = outbox.health();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("enabled", enabledHere);
    m.put("started", h.started());
    m.put("running", h.running());
    m.put("lastSuccessfulPass", text(h.lastSuccessfulPass()));
    m.put("consecutiveFailures", h.consecutiveFailures());
    m.put("lastError", describe(h.lastError()));
    m.put("stoppedBy", describe(h.stoppedBy()));
    return m;
  }

  static Map<String, Object> backlog(OutboxStats s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("pending", s.pending());
    m.put("claimed", s.claimed());
    m.put("failing", s.failing());
    m.put("deadLetters", s.deadLetters());
    m.put("oldestPendingAge", s.oldestPendingAge().toString());
    m.put("oldestPendingAgeMillis", s.oldestPendingAge().toMillis());
    return m;
  }

  static Map<String, Object> deadLetter(DeadLetter d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", d.id());
    m.put("messageId", d.messageId().toString());
    m.put("namespace", d.message().namespace());
    byte[] key = d.message().key();
    m.put("keyBase64", key == null ? null : Base64.getEncoder().encodeToString(key));
    m.put("payloadBytes", d.message().payloadSize());
    m.put("headers", d.message().headers());
    m.put("createdAt", d.createdAt().toString());
    m.put("attempts", d.attempts());
    m.put("lastError", d.lastError());
    m.put("deadLetteredAt", d.deadLetteredAt().toString());
    return m;
  }

  static Map<String, Object> blockedKey(BlockedKey k) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("namespace", k.namespace());
    m.put("keyBase64", Base64.getEncoder().encodeToString(k.key()));
    m.put("deadLetterIds", k.deadLetterIds());
    m.put("waiting", k.waiting());
    return m;
  }

  static String text(Instant t) {
    return t == null ? null : t.toString();
  }

  static String text(Duration d) {
    return d == null ? null : d.toString();
  }

  static String describe(Throwable t) {
    if (t == null) {
      return null;
    }
    return t.getMessage() == null
        ? t.getClass().getName()
        : t.getClass().getName() + ": " + t.getMessage();
  }
}
