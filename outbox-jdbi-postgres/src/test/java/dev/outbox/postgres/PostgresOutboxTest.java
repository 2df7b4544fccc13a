package dev.outbox.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.ClaimRequest;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.OutboxException;
import dev.outbox.PumpResult;
import dev.outbox.testkit.RecordingPublisher;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** An {@link Outbox} over {@link PostgresStorage}: the transactional guarantees end to end. */
class PostgresOutboxTest {

  private static final String TABLE = "jdbc_pg_it";

  private static Jdbi jdbi;
  private static PostgresStorage storage;

  private final RecordingPublisher publisher = new RecordingPublisher();
  private Outbox<Handle> outbox;

  @BeforeEach
  void emptyOutbox() {
    if (jdbi == null) { // once per class; per test so that each reports the skip without a database
      jdbi = TestDatabase.get().jdbi();
      storage = TestDatabase.freshStorage(jdbi, TABLE);
    }
    jdbi.useHandle(h -> h.execute("TRUNCATE " + TABLE + ", " + TABLE + "_dead_letters"));
    outbox = Outbox.builder(storage, publisher).processorId("it-1").build();
  }

  @AfterEach
  void closeOutbox() {
    if (outbox != null) {
      outbox.close();
    }
  }

  private static Message message(String payload) {
    return Message.builder().namespace("orders").key("order-1").payload(payload).build();
  }

  @Test
  void aRolledBackTransactionLeavesNoEntryAndACommittedOneIsPublishedExactlyOnce() {
    assertThatThrownBy(
            () ->
                jdbi.useTransaction(
                    h -> {
                      outbox.publish(h, message("rolled back"));
                      throw new IllegalStateException("business rule failed");
                    }))
        .hasMessage("business rule failed");
    jdbi.useTransaction(h -> outbox.publish(h, message("committed")));

    PumpResult first = outbox.pumpOutbox();
    PumpResult second = outbox.pumpOutbox();

    assertThat(first.published()).isEqualTo(1);
    assertThat(second).isEqualTo(PumpResult.EMPTY);
    assertThat(publisher.messages())
        .extracting(Message::payloadAsString)
        .containsExactly("committed");
    assertThat(publisher.deliveries().values()).containsExactly(1);
    assertThat(rowCount()).as("deleted after publishing").isZero();
  }

  @Test
  void publishingOutsideATransactionIsRefused() {
    try (Handle h = jdbi.open()) {
      assertThatThrownBy(() -> storage.publish(h, TestDatabase.entries(List.of(message("x")))))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("outside a transaction defeats the outbox");
    }
    assertThat(rowCount()).isZero();
  }

  @Test
  void keysAndHeadersAreStoredInTheirColumnsWithNullAndEmptyKeysKeptApart() {
    jdbi.useTransaction(
        h ->
            outbox.publish(
                h,
                Message.builder().namespace("n").payload(new byte[] {0, (byte) 0xff}).build(),
                Message.builder().namespace("n").key(new byte[0]).payload("").build(),
                Message.builder()
                    .namespace("n")
                    .key(new byte[] {1, 2})
                    .payload("p")
                    .headers(Map.of("trace", "t-1", "quote", "\"q\""))
                    .build()));

    List<Map<String, Object>> rows =
        jdbi.withHandle(
            h ->
                h.createQuery(
                        "SELECT msg_key IS NULL AS no_key, length(msg_key) AS key_length,"
                            + " headers ->> 'trace' AS trace, headers ->> 'quote' AS quote,"
                            + " attempts, processor_id, claim_token,"
                            + " available_at = to_timestamp(0) AS available"
                            + " FROM "
                            + TABLE
                            + " ORDER BY id")
                    .mapToMap()
                    .list());

    assertThat(rows).extracting(r -> r.get("no_key")).containsExactly(true, false, false);
    assertThat(rows).extracting(r -> r.get("key_length")).containsExactly(null, 0, 2);
    assertThat(rows.get(2)).containsEntry("trace", "t-1").containsEntry("quote", "\"q\"");
    assertThat(rows).extracting(r -> r.get("attempts")).containsOnly(0);
    assertThat(rows).extracting(r -> r.get("processor_id")).containsOnlyNulls();
    assertThat(rows).extracting(r -> r.get("claim_token")).containsOnlyNulls();
    assertThat(rows).extracting(r -> r.get("available")).containsOnly(true);

    outbox.pumpOutbox();
    assertThat(publisher.messages().get(0).key()).isNull();
    assertThat(publisher.messages().get(1).key()).isEmpty();
    assertThat(publisher.messages().get(2).headers()).containsEntry("quote", "\"q\"");
  }

  @Test
  void controlCharactersInHeadersRoundTripButANulIsRefusedWithContext() {
    Message tricky =
        Message.builder()
            .namespace("n")
            .payload("p")
            .header("ctl", "tab\t cr\r bell\u0007 unit\u001f")
            .header("emoji", "\uD83D\uDE80")
            .build();
    jdbi.useTransaction(h -> outbox.publish(h, tricky));
    outbox.pumpOutbox();
    assertThat(publisher.messages()).containsExactly(tricky);

    assertThatThrownBy(
            () -> Message.builder().namespace("n").payload("p").header("h", "a\u0000b").build())
        .as("the core refuses a NUL before it reaches PostgreSQL")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("NUL");
  }

  @Test
  void inTransactionModeNotifiesTheChannelOncePerCommitAndNotAtAllWhenDisabled() throws Exception {
    PostgresStorage silent =
        PostgresStorage.builder(jdbi).tableName(TABLE).notifyOnPublish(false).build();
    PostgresStorage storage =
        PostgresStorage.builder(jdbi)
            .tableName(TABLE)
            .notifyChannel(TABLE + "_tx") // the class's other storages notify TABLE, coalesced
            .notifyMode(PostgresStorage.NotifyMode.IN_TRANSACTION)
            .build();
    try (Connection listener = TestDatabase.get().dataSource().getConnection()) {
      try (Statement st = listener.createStatement()) {
        st.execute("LISTEN \"" + TABLE + "_tx\"");
      }
      PGConnection pg = listener.unwrap(PGConnection.class);

      jdbi.useTransaction(h -> silent.publish(h, TestDatabase.entries(List.of(message("silent")))));
      jdbi.useTransaction(
          h ->
              storage.publish(
                  h, TestDatabase.entries(List.of(message("a"), message("b"), message("c")))));

      // Notifications arrive in commit order: once the second commit's is here, the first would be.
      PGNotification[] received = pg.getNotifications(10_000);
      assertThat(received).hasSize(1);
      assertThat(received[0].getName()).isEqualTo(TABLE + "_tx");
      assertThat(received[0].getParameter()).isEmpty();
      assertThat(pg.getNotifications(1)).as("one notification for three messages").isEmpty();
    }
  }

  @Test
  void createSchemaIsSafeToRunAgainAndKeepsTheData() {
    jdbi.useTransaction(h -> outbox.publish(h, message("kept")));

    storage.createSchema();
    storage.createSchema();

    assertThat(rowCount()).isEqualTo(1);
  }

  @Test
  void worksOverAPoolThatHandsOutConnectionsWithAutoCommitOff() throws Exception {
    DataSource plain = TestDatabase.get().dataSource();
    Jdbi manualCommit =
        Jdbi.create(
            () -> {
              Connection c = plain.getConnection();
              c.setAutoCommit(false);
              return c;
            });
    PostgresStorage storage2 = PostgresStorage.builder(manualCommit).tableName(TABLE).build();
    jdbi.useTransaction(h -> outbox.publish(h, message("m1"), message("m2")));
    Instant now = Instant.now();

    UUID token = UUID.randomUUID();
    List<Long> ids =
        storage2.claim(new ClaimRequest("p2", token, now, now.plusSeconds(30), 10)).stream()
            .map(e -> e.id())
            .toList();
    int deleted = storage2.delete(token, ids.subList(0, 1));

    assertThat(ids).hasSize(2);
    assertThat(deleted).isEqualTo(1);
    assertThat(rowCount()).as("the delete was committed").isEqualTo(1);
    assertThat(TestDatabase.claim(storage, "p3", now, 10)).as("the claim was committed").isEmpty();
  }

  @Test
  void storageFailuresCarryTheOperationAndTheTable() {
    PostgresStorage missing = PostgresStorage.builder(jdbi).tableName("no_such_outbox").build();

    assertThatThrownBy(() -> TestDatabase.claim(missing, "p1", Instant.now(), 10))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("claim of up to 10 entries for processor p1")
        .hasMessageContaining("no_such_outbox")
        .hasMessageContaining("42P01");
  }

  private static long rowCount() {
    return jdbi.withHandle(
        h -> h.createQuery("SELECT count(*) FROM " + TABLE).mapTo(Long.class).one());
  }
}
