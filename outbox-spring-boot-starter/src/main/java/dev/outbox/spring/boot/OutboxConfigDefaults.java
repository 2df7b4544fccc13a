package dev.outbox.spring.boot;

import java.time.Duration;

/**
 * The core's defaults for the settings the builder takes in pairs (initial and max backoff), so
 * that a property setting one of them keeps the other at its default. A test compares them with the
 * configuration of an outbox built with defaults.
 */
final class OutboxConfigDefaults {

  static final OutboxConfigDefaults INSTANCE = new OutboxConfigDefaults();

  final Duration retryBackoffInitial = Duration.ofSeconds(1);
  final Duration retryBackoffMax = Duration.ofMinutes(5);
  final Duration errorBackoffInitial = Duration.ofMillis(100);
  final Duration errorBackoffMax = Duration.ofSeconds(30);

  private OutboxConfigDefaults() {}
}
