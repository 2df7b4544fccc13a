package dev.outbox.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The default notification: off the caller's transaction (so its commit does not take PostgreSQL's
 * notify lock), on the storage's own connection, coalesced over bursts of publishes.
 */
class CoalescedNotifyTest {

  private static final String TABLE = "perf_coalesced_notify";

  private static Jdbi jdbi;

  @BeforeEach
  void freshTable() {
    if (jdbi == null) {
      jdbi = TestDatabase.get().jdbi();
      TestDatabase.freshStorage(jdbi, TABLE);
    }
    jdbi.useHandle(h -> h.execute("TRUNCATE " + TABLE + ", " + TABLE + "_dead_letters"));
  }

  private static List<dev.outbox.NewEntry> one(String payload) {
    return TestDatabase.entries(
        List.of(Message.builder().namespace("n").key("k").payload(payload).build()));
  }

  private static Connection listen() throws Exception {
    Connection c = TestDatabase.get().dataSource().getConnection();
    try (Statement st = c.createStatement()) {
      st.execute("LISTEN \"" + TABLE + "\"");
    }
    return c;
  }

  /** All notifications that arrive within {@code millis}. */
  private static List<PGNotification> drain(PGConnection pg, int millis) throws Exception {
    List<PGNotification> all = new ArrayList<>();
    long deadline = System.nanoTime() + millis * 1_000_000L;
    long left;
    while ((left = (deadline - System.nanoTime()) / 1_000_000) > 0) {
      PGNotification[] got = pg.getNotifications((int) Math.max(1, left));
      if (got != null) {
        all.addAll(List.of(got));
      }
    }
    return all;
  }

  @Test
  void byDefaultTheCallersTransactionDoesNotNotifyAndTheNotificationComesFromElsewhere()
      throws Exception {
    PostgresStorage storage = PostgresStorage.builder(jdbi).tableName(TABLE).build();
    assertThat(storage.notifyMode()).isEqualTo(PostgresStorage.NotifyMode.COALESCED);
    assertThat(storage.notifyChannel()).contains(TABLE);
    try (Connection listener = listen();
        Handle h = jdbi.open()) {
      PGConnection pg = listener.unwrap(PGConnection.class);
      h.begin();
      storage.publish(h, one("open"));
      // The transaction is still open: a notification of the transaction's own would wait for
      // its commit; this one was sent on another connection.
      List<PGNotification> whileOpen = drain(pg, 1_000);
      assertThat(whileOpen)
          .as("notifications while the publisher's transaction is open")
          .isNotEmpty();
      assertThat(whileOpen.get(0).getName()).isEqualTo(TABLE);
      assertThat(whileOpen.get(0).getPID())
          .as("sent by another backend than the publisher's")
          .isNotEqualTo(backendPid(h));
      h.commit();
      assertThat(drain(pg, 300)).as("the commit itself notifies nobody").isEmpty();
    }
  }

  @Test
  void inTransactionModeNotifiesOnlyAtCommit() throws Exception {
    PostgresStorage storage =
        PostgresStorage.builder(jdbi)
            .tableName(TABLE)
            .notifyMode(PostgresStorage.NotifyMode.IN_TRANSACTION)
            .build();
    try (Connection listener = listen();
        Handle h = jdbi.open()) {
      PGConnection pg = listener.unwrap(PGConnection.class);
      h.begin();
      storage.publish(h, one("open"));
      assertThat(drain(pg, 300)).isEmpty();
      h.commit();
      List<PGNotification> atCommit = drain(pg, 1_000);
      assertThat(atCommit).hasSize(1);
      assertThat(atCommit.get(0).getPID()).isEqualTo(backendPid(h));
    }
  }

  @Test
  void aBurstOfPublishesSharesAFewNotifications() throws Exception {
    PostgresStorage storage =
        PostgresStorage.builder(jdbi).tableName(TABLE).notifyDelay(Duration.ofMillis(20)).build();
    try (Connection listener = listen()) {
      PGConnection pg = listener.unwrap(PGConnection.class);
      int transactions = 300;
      long start = System.nanoTime();
      for (int i = 0; i < transactions; i++) {
        String payload = "m" + i;
        jdbi.useTransaction(h -> storage.publish(h, one(payload)));
      }
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
      List<PGNotification> received = drain(pg, 500); // the last follow-up comes 200 ms after
      // At most one first and one follow-up per delay (and per ten delays) of the burst, plus the
      // pair scheduled at its end.
      long bound = elapsedMillis / 20 + elapsedMillis / 200 + 2;
      assertThat(received)
          .as("%d transactions in %d ms", transactions, elapsedMillis)
          .isNotEmpty()
          .hasSizeLessThanOrEqualTo((int) Math.min(bound, transactions - 1));
      assertThat(received).allSatisfy(n -> assertThat(n.getName()).isEqualTo(TABLE));
      assertThat(storage.coalescedNotificationsSent()).isEqualTo(received.size());
    }
  }

  @Test
  void noneSendsNothing() throws Exception {
    PostgresStorage storage =
        PostgresStorage.builder(jdbi)
            .tableName(TABLE)
            .notifyMode(PostgresStorage.NotifyMode.NONE)
            .build();
    assertThat(storage.notifyChannel()).isEmpty();
    try (Connection listener = listen()) {
      PGConnection pg = listener.unwrap(PGConnection.class);
      jdbi.useTransaction(h -> storage.publish(h, one("quiet")));
      assertThat(drain(pg, 300)).isEmpty();
    }
  }

  private static int backendPid(Handle h) {
    return h.select("SELECT pg_backend_pid()").mapTo(Integer.class).one();
  }
}
