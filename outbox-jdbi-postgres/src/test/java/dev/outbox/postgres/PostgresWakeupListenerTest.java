package dev.outbox.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.testkit.RecordingPublisher;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * LISTEN/NOTIFY: an outbox that would otherwise wait a minute publishes a commit made on another
 * connection within milliseconds, also after its listener's connection was killed.
 */
class PostgresWakeupListenerTest {

  private static final String TABLE = "jdbc_pg_notify";
  private static final Duration QUICKLY = Duration.ofSeconds(5); // the interval is a minute

  private static Jdbi writerJdbi;
  private static PostgresStorage writer;

  @BeforeEach
  void createTables() {
    if (writerJdbi == null) { // once per class; per test so that each reports the skip
      writerJdbi = TestDatabase.get().jdbi();
      writer = TestDatabase.freshStorage(writerJdbi, TABLE);
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aCommitInAnotherSessionWakesTheOutboxAlsoAfterTheListenerWasDisconnected() {
    String appName = "outbox-wakeup-test-" + ProcessHandle.current().pid();
    RecordingPublisher publisher = new RecordingPublisher();
    PostgresStorage processorStorage =
        PostgresStorage.builder(TestDatabase.get().jdbi()).tableName(TABLE).build();
    PostgresWakeupListener listener =
        PostgresWakeupListener.builder(TestDatabase.get().url())
            .channelOf(processorStorage)
            .applicationName(appName)
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofSeconds(1))
            .build();
    try (Outbox<Handle> outbox =
        Outbox.builder(processorStorage, publisher)
            .processorId("notified")
            .processInterval(Duration.ofMinutes(1))
            .build()) {
      outbox.start();
      listener.register(outbox).start();
      int firstPid = awaitValue("the listener's session", () -> listenerPid(appName));

      long millis = commitAndTimePublication(publisher, "first", 1);
      System.out.printf("NOTIFY wake-up: commit to publish in %d ms%n", millis);

      boolean terminated =
          writerJdbi.withHandle(
              h ->
                  h.createQuery("SELECT pg_terminate_backend(:pid)")
                      .bind("pid", firstPid)
                      .mapTo(Boolean.class)
                      .one());
      assertThat(terminated).isTrue();
      int secondPid =
          awaitValue(
              "a new listener session", () -> listenerPid(appName).filter(pid -> pid != firstPid));

      long millisAfterReconnect = commitAndTimePublication(publisher, "after reconnect", 2);
      System.out.printf(
          "NOTIFY wake-up after reconnecting (backend %d -> %d): commit to publish in %d ms%n",
          firstPid, secondPid, millisAfterReconnect);
      assertThat(listener.isListening()).isTrue();
      assertThat(publisher.deliveries().values()).containsOnly(1);

      listener.close();
      listener.close(); // idempotent
      assertThat(listener.isListening()).isFalse();
      assertThat(listenerPid(appName)).as("the listener's session is gone").isEmpty();
    } finally {
      listener.close();
    }
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void everyRegisteredOutboxIsWoken() {
    RecordingPublisher first = new RecordingPublisher();
    RecordingPublisher second = new RecordingPublisher();
    PostgresStorage storageA =
        PostgresStorage.builder(TestDatabase.get().jdbi()).tableName(TABLE).build();
    // A second table notifying the same channel, so each outbox has its own entries to publish.
    Jdbi jdbiB = TestDatabase.get().jdbi();
    TestDatabase.freshStorage(jdbiB, TABLE + "_b");
    PostgresStorage storageB =
        PostgresStorage.builder(jdbiB).tableName(TABLE + "_b").notifyChannel(TABLE).build();
    try (Outbox<Handle> a = slowOutbox(storageA, first, "a");
        Outbox<Handle> b = slowOutbox(storageB, second, "b");
        PostgresWakeupListener listener =
            PostgresWakeupListener.builder(TestDatabase.get().dataSource())
                .channel(TABLE)
                .applicationName("outbox-wakeup-test-two")
                .build()) {
      a.start();
      b.start();
      listener.register(a).register(b).start();
      awaitValue("the listener's session", () -> listenerPid("outbox-wakeup-test-two"));

      writerJdbi.useTransaction(
          h -> storageA.publish(h, TestDatabase.entries(List.of(message("to a")))));
      jdbiB.useTransaction(
          h -> storageB.publish(h, TestDatabase.entries(List.of(message("to b")))));
      first.awaitDistinct(1, QUICKLY);
      second.awaitDistinct(1, QUICKLY);

      assertThat(listener.unregister(b)).isTrue();
      assertThat(listener.unregister(b)).isFalse();
      writerJdbi.useTransaction(
          h -> storageA.publish(h, TestDatabase.entries(List.of(message("a again")))));
      first.awaitDistinct(2, QUICKLY);
    }
  }

  private static Outbox<Handle> slowOutbox(
      PostgresStorage storage, RecordingPublisher publisher, String id) {
    return Outbox.builder(storage, publisher)
        .processorId("slow-" + id)
        .processInterval(Duration.ofMinutes(1))
        .build();
  }

  private static Message message(String payload) {
    return Message.builder().namespace("wakeup").payload(payload).build();
  }

  /** Commits one message in the writer's own session and measures until it is published. */
  private static long commitAndTimePublication(
      RecordingPublisher publisher, String payload, int expectedTotal) {
    writerJdbi.useTransaction(
        h -> writer.publish(h, TestDatabase.entries(List.of(message(payload)))));
    long committed = System.nanoTime();
    publisher.awaitDistinct(expectedTotal, QUICKLY);
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - committed);
  }

  /** The backend pid of the session with this application_name (set once it listens). */
  private static Optional<Integer> listenerPid(String applicationName) {
    return writerJdbi.withHandle(
        h ->
            h.createQuery("SELECT pid FROM pg_stat_activity WHERE application_name = :name")
                .bind("name", applicationName)
                .mapTo(Integer.class)
                .findFirst());
  }

  /** Bounded polling for a condition the database reports. */
  private static <T> T awaitValue(String what, Supplier<Optional<T>> probe) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      Optional<T> value = probe.get();
      if (value.isPresent()) {
        return value.get();
      }
      if (System.nanoTime() > end) {
        throw new AssertionError("waited 10 s for " + what);
      }
      LockSupport.parkNanos(
          TimeUnit.MILLISECONDS.toNanos(10)); // a polling interval, not a wait for the outcome
    }
  }
}
