package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.testkit.RecordingPublisher;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Publishing with nothing but a {@code java.sql.Connection} from {@code DriverManager}: no pool, no
 * Jdbi, no Spring. A commit publishes the message with the business row, a rollback leaves neither,
 * and a connection in auto-commit mode is refused before anything is written.
 */
abstract class JdbcPublishContract {

  private final TestDatabase.Kind kind;
  private final String table;
  private final String orders;
  private final RecordingPublisher publisher = new RecordingPublisher();
  private Outbox<Connection> outbox;

  JdbcPublishContract(TestDatabase.Kind kind) {
    this.kind = kind;
    this.table = TestDatabase.PREFIX + "plain";
    this.orders = TestDatabase.PREFIX + "plain_orders";
  }

  @BeforeEach
  void freshTables() {
    JdbcStorage storage = TestDatabase.freshStorage(kind, table);
    TestDatabase.execute(
        kind,
        "DROP TABLE IF EXISTS " + orders,
        "CREATE TABLE " + orders + " (id BIGINT PRIMARY KEY)");
    outbox = Outbox.builder(storage, publisher).processorId("plain").build();
  }

  @AfterEach
  void close() {
    outbox.close();
  }

  private static Message order(long id) {
    return Message.builder().namespace("orders").key(Long.toString(id)).payload("o" + id).build();
  }

  private void placeOrder(Connection c, long id) throws Exception {
    try (Statement st = c.createStatement()) {
      st.executeUpdate("INSERT INTO " + orders + " (id) VALUES (" + id + ")");
    }
    outbox.publish(c, order(id));
  }

  @Test
  void aCommitPublishesTheMessageWithTheBusinessRow() throws Exception {
    try (Connection c = TestDatabase.connect(kind)) {
      c.setAutoCommit(false);
      placeOrder(c, 1);
      c.commit();
    }

    assertThat(outbox.pumpOutbox().published()).isEqualTo(1);
    assertThat(publisher.messages()).containsExactly(order(1));
    assertThat(TestDatabase.queryLong(kind, "SELECT COUNT(*) FROM " + orders)).isEqualTo(1);
  }

  @Test
  void aRollbackLeavesNeitherTheRowNorTheMessage() throws Exception {
    try (Connection c = TestDatabase.connect(kind)) {
      c.setAutoCommit(false);
      placeOrder(c, 2);
      c.rollback();
    }

    assertThat(outbox.pumpOutbox().claimed()).isZero();
    assertThat(publisher.count()).isZero();
    assertThat(TestDatabase.queryLong(kind, "SELECT COUNT(*) FROM " + orders)).isZero();
  }

  @Test
  void aConnectionInAutoCommitModeIsRefused() throws Exception {
    try (Connection c = TestDatabase.connect(kind)) {
      assertThat(c.getAutoCommit()).isTrue();

      assertThatThrownBy(() -> outbox.publish(c, order(3)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("publish needs a connection inside a transaction")
          .hasMessageContaining("auto-commit");
    }
    assertThat(TestDatabase.queryLong(kind, "SELECT COUNT(*) FROM " + table))
        .as("nothing was written")
        .isZero();
  }
}
