package dev.outbox.spring.boot;

import dev.outbox.Outbox;
import java.sql.Connection;

/**
 * Adjusts the auto-configured outbox before it is built, after the {@code outbox.processor.*}
 * properties were applied: a thread factory, a message decorator, settings the properties do not
 * cover. Every bean of this type is applied, in {@code @Order}.
 */
@FunctionalInterface
public interface OutboxBuilderCustomizer {

  /** Adjusts the builder. */
  void customize(Outbox.Builder<Connection> builder);
}
