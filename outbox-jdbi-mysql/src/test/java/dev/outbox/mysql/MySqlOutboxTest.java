package dev.outbox.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.Message;
import dev.outbox.NewEntry;
import dev.outbox.Outbox;
import dev.outbox.PumpResult;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.RecordingPublisher;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** An {@link Outbox} over {@link MySqlStorage}, end to end, with the caller's transactions. */
class MySqlOutboxTest {

  private static final String TABLE = "jdbc_my_flow";

  private static Jdbi jdbi;
  private static MySqlStorage storage;

  private final FakeClock clock = new FakeClock();
  private final RecordingPublisher publisher = new RecordingPublisher();
  private Outbox<Handle> outbox;

  @BeforeEach
  void emptyOutbox() {
    if (jdbi == null) {
      jdbi = TestDatabase.jdbi();
      storage = MySqlStorage.builder(jdbi).tableName(TABLE).build();
      storage.createSchema();
    }
    jdbi.useHandle(
        h -> {
          h.execute("DROP TABLE IF EXISTS jdbc_my_flow_orders");
          h.execute("CREATE TABLE jdbc_my_flow_orders (id BIGINT PRIMARY KEY) ENGINE=InnoDB");
          h.execute("TRUNCATE TABLE " + TABLE);
          h.execute("TRUNCATE TABLE " + TABLE + "_dead_letters");
        });
    outbox = Outbox.builder(storage, publisher).processorId("flow-1").clock(clock).build();
  }

  @AfterEach
  void closeOutbox() {
    if (outbox != null) { // null when the test was skipped for want of a database
      outbox.close();
    }
  }

  private static Message order(long id) {
    return Message.builder()
        .namespace("orders")
        .key(Long.toString(id))
        .payload("order " + id)
        .build();
  }

  @Test
  void aRolledBackTransactionLeavesNeitherDataNorMessage() {
    assertThatThrownBy(
            () ->
                jdbi.useTransaction(
                    h -> {
                      h.execute("INSERT INTO jdbc_my_flow_orders (id) VALUES (1)");
                      outbox.publish(h, order(1));
                      throw new IllegalStateException("business rule failed");
                    }))
        .hasMessage("business rule failed");

    PumpResult pass = outbox.pumpOutbox();

    assertThat(pass.claimed()).isZero();
    assertThat(publisher.count()).isZero();
    assertThat(outbox.stats().pending()).isZero();
    int orders =
        jdbi.withHandle(
            h -> h.select("SELECT COUNT(*) FROM jdbc_my_flow_orders").mapTo(Integer.class).one());
    assertThat(orders).isZero();
  }

  @Test
  void aCommittedMessageIsPublishedOnceAndDeleted() {
    jdbi.useTransaction(
        h -> {
          h.execute("INSERT INTO jdbc_my_flow_orders (id) VALUES (2)");
          outbox.publish(h, order(2));
        });

    PumpResult first = outbox.pumpOutbox();
    PumpResult second = outbox.pumpOutbox();

    assertThat(first.published()).isEqualTo(1);
    assertThat(second.claimed()).isZero();
    assertThat(publisher.messages()).containsExactly(order(2));
    assertThat(publisher.deliveriesOf(publisher.published().get(0).id())).isEqualTo(1);
    assertThat(outbox.stats().pending()).isZero();
  }

  @Test
  void publishOutsideATransactionIsRefused() {
    jdbi.useHandle(
        h ->
            assertThatThrownBy(
                    () ->
                        storage.publish(
                            h, List.of(new NewEntry(UUID.randomUUID(), order(3), Instant.now()))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("needs a Handle inside a transaction")
                .hasMessageContaining("auto-commit"));

    assertThat(outbox.stats().pending()).as("nothing was written").isZero();
  }

  @Test
  void failuresAreRetriedAndDeadLetteredThroughTheOutbox() {
    Outbox<Handle> strict =
        Outbox.builder(storage, publisher)
            .processorId("flow-2")
            .clock(clock)
            .maxAttempts(1)
            .build();
    try {
      jdbi.useTransaction(h -> strict.publish(h, order(4), order(5)));
      publisher.failWhen(e -> e.message().keyAsString().equals("5"));

      PumpResult pass = strict.pumpOutbox();

      assertThat(pass.published()).isEqualTo(1);
      assertThat(pass.deadLettered()).isEqualTo(1);
      assertThat(strict.deadLetters().list(10))
          .singleElement()
          .satisfies(d -> assertThat(d.message()).isEqualTo(order(5)));
      publisher.succeed();
      assertThat(strict.deadLetters().requeueAll()).isEqualTo(1);
      assertThat(strict.pumpOutbox().published()).isEqualTo(1);
      assertThat(publisher.messages()).containsExactly(order(4), order(5));
    } finally {
      strict.close();
    }
  }
}
