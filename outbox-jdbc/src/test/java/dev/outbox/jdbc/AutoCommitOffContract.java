package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.FailedEntry;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.PumpResult;
import dev.outbox.testkit.RecordingPublisher;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * On a HikariCP pool with {@code autoCommit=false} (as Spring applications commonly run), every
 * piece of the storage's own work is committed: the schema, claims, deletes, failures, renewals,
 * dead letters, requeues and purges. Each effect is checked from another session, which sees only
 * committed data; a pool rolls back what a borrower left uncommitted. Before the engine, the
 * MariaDB storage published the same batch forever here and PostgreSQL's createSchema left no
 * table.
 */
abstract class AutoCommitOffContract {

  private final TestDatabase.Kind kind;
  private final String table;
  private HikariDataSource manualCommit;
  private JdbcStorage storage;

  AutoCommitOffContract(TestDatabase.Kind kind) {
    this.kind = kind;
    this.table = TestDatabase.PREFIX + "autocommit_off";
  }

  @BeforeEach
  void manualCommitPool() {
    TestDatabase.execute(
        kind, "DROP TABLE IF EXISTS " + table + "_dead_letters", "DROP TABLE IF EXISTS " + table);
    manualCommit = TestDatabase.pool(kind, false, 4);
    storage = JdbcStorage.builder(manualCommit).dialect(kind.dialect()).tableName(table).build();
  }

  @AfterEach
  void closePool() {
    manualCommit.close();
  }

  private long committed(String where) {
    return TestDatabase.queryLong(kind, "SELECT COUNT(*) FROM " + table + " WHERE " + where);
  }

  private void publish(List<Message> messages, Outbox<Connection> outbox) throws Exception {
    try (Connection c = manualCommit.getConnection()) {
      assertThat(c.getAutoCommit()).as("the pool hands out manual-commit connections").isFalse();
      outbox.publish(c, messages);
      c.commit();
    }
  }

  private static List<Message> messages(int n) {
    List<Message> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Message.builder().namespace("ac").key("k" + i).payload("m" + i).build());
    }
    return out;
  }

  @Test
  void theSchemaAndADrainAreCommitted() throws Exception {
    storage.createSchema();
    assertThat(TestDatabase.queryLong(kind, "SELECT COUNT(*) FROM " + table))
        .as("createSchema committed its tables")
        .isZero();
    RecordingPublisher publisher = new RecordingPublisher();
    try (Outbox<Connection> outbox =
        Outbox.builder(storage, publisher).processorId("ac").batchSize(10).build()) {
      publish(messages(25), outbox);
      assertThat(committed("1 = 1")).isEqualTo(25);

      PumpResult pass = CompletableFuture.supplyAsync(outbox::pumpOutbox).get(60, TimeUnit.SECONDS);

      assertThat(pass.published()).isEqualTo(25);
      assertThat(publisher.count()).as("each message delivered once").isEqualTo(25);
      assertThat(publisher.distinctCount()).isEqualTo(25);
      assertThat(committed("1 = 1")).as("the deletes were committed").isZero();
    }
  }

  @Test
  void claimsFailuresRenewalsAndDeadLettersAreCommitted() throws Exception {
    storage.createSchema();
    try (Outbox<Connection> outbox =
        Outbox.builder(storage, new RecordingPublisher()).processorId("ac").build()) {
      publish(messages(4), outbox);
    }
    Instant now = Instant.parse("2030-01-01T00:00:00Z");
    UUID token = UUID.randomUUID();

    List<ClaimedEntry> claimed =
        storage.claim(new ClaimRequest("ac", token, now, now.plusSeconds(30), 10));
    assertThat(claimed).hasSize(4);
    assertThat(committed("claim_token IS NOT NULL")).as("the claim").isEqualTo(4);

    long a = claimed.get(0).id();
    long b = claimed.get(1).id();
    long c = claimed.get(2).id();
    long d = claimed.get(3).id();
    assertThat(storage.release(token, List.of(new FailedEntry(a, 1, now, "boom")))).isEqualTo(1);
    assertThat(committed("id = " + a + " AND attempts = 1 AND last_error = 'boom'"))
        .as("the failure")
        .isEqualTo(1);

    assertThat(storage.renew(token, List.of(b), now.plusSeconds(600))).isEqualTo(1);
    assertThat(
            storage.claim(
                new ClaimRequest(
                    "x", UUID.randomUUID(), now.plusSeconds(60), now.plusSeconds(90), 10)))
        .extracting(ClaimedEntry::id)
        .as("the renewal holds b past the first lease; a is due again")
        .containsExactly(a, c, d);

    UUID second = UUID.randomUUID();
    storage.claim(new ClaimRequest("y", second, now.plusSeconds(120), now.plusSeconds(150), 10));
    assertThat(storage.deadLetter(second, List.of(new FailedEntry(c, 3, now, "dead")), now))
        .isEqualTo(1);
    assertThat(
            TestDatabase.queryLong(
                kind, "SELECT COUNT(*) FROM " + table + "_dead_letters WHERE id = " + c))
        .as("the dead letter")
        .isEqualTo(1);
    assertThat(committed("id = " + c)).isZero();
    assertThat(storage.delete(second, List.of(d))).isEqualTo(1);
    assertThat(committed("id = " + d)).as("the delete").isZero();

    assertThat(storage.requeueAllDeadLetters(now)).isEqualTo(1);
    assertThat(committed("id = " + c)).as("the requeue").isEqualTo(1);
    storage.claim(new ClaimRequest("z", token, now.plusSeconds(700), now.plusSeconds(730), 10));
    storage.deadLetter(token, List.of(new FailedEntry(c, 1, now, "again")), now);
    assertThat(storage.purgeAllDeadLetters()).isEqualTo(1);
    assertThat(TestDatabase.queryLong(kind, "SELECT COUNT(*) FROM " + table + "_dead_letters"))
        .as("the purge")
        .isZero();
    assertThat(storage.stats(now.plusSeconds(700)).pending()).isEqualTo(2);
  }

  @Test
  void aLongDrainWithFailuresStaysCommitted() throws Exception {
    storage.createSchema();
    RecordingPublisher publisher =
        new RecordingPublisher().failWhen(e -> e.message().payloadAsString().equals("m3"));
    try (Outbox<Connection> outbox =
        Outbox.builder(storage, publisher)
            .processorId("ac")
            .batchSize(10)
            .maxAttempts(1)
            .retryBackoff(Duration.ZERO, Duration.ZERO)
            .build()) {
      publish(messages(25), outbox);

      int published = 0;
      int deadLettered = 0;
      for (int pass = 0; pass < 5; pass++) { // a pass ends after a batch with a failure
        PumpResult r = CompletableFuture.supplyAsync(outbox::pumpOutbox).get(60, TimeUnit.SECONDS);
        published += r.published();
        deadLettered += r.deadLettered();
      }

      assertThat(published).isEqualTo(24);
      assertThat(deadLettered).isEqualTo(1);
      assertThat(publisher.distinctCount()).isEqualTo(24);
      assertThat(committed("1 = 1")).isZero();
      assertThat(TestDatabase.queryLong(kind, "SELECT COUNT(*) FROM " + table + "_dead_letters"))
          .isEqualTo(1);
    }
  }
}
