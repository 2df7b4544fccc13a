package dev.outbox.micrometer;

import dev.outbox.ClaimedEntry;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import dev.outbox.testkit.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A publisher told per payload whether to accept, fail retryably or fail permanently, or to throw
 * for whole batches (an outage); each call takes {@code callTime} on the fake clock.
 */
final class ScriptedPublisher implements Publisher {

  enum Mode {
    RETRYABLE,
    PERMANENT
  }

  private final FakeClock clock;
  final Map<String, Mode> modes = new ConcurrentHashMap<>();
  final List<String> accepted = new ArrayList<>();
  volatile Duration callTime = Duration.ZERO;
  volatile RuntimeException outage;
  volatile Runnable during = () -> {};

  ScriptedPublisher(FakeClock clock) {
    this.clock = clock;
  }

  @Override
  public void publish(List<ClaimedEntry> entries) throws PublishException {
    clock.advance(callTime);
    during.run();
    RuntimeException o = outage;
    if (o != null) {
      throw o;
    }
    PublishException.Builder failures = PublishException.builder();
    for (ClaimedEntry e : entries) {
      String payload = e.message().payloadAsString();
      Mode mode = modes.get(payload);
      if (mode == Mode.RETRYABLE) {
        failures.retryable(e, new IllegalStateException("told to fail " + payload));
      } else if (mode == Mode.PERMANENT) {
        failures.permanent(e, new IllegalArgumentException("told to refuse " + payload));
      } else {
        synchronized (accepted) {
          accepted.add(payload);
        }
      }
    }
    failures.throwIfAny();
  }

  List<String> accepted() {
    synchronized (accepted) {
      return List.copyOf(accepted);
    }
  }
}
