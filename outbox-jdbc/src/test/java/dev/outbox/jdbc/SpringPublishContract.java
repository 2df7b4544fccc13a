package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.testkit.RecordingPublisher;
import java.sql.Connection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Publishing inside a Spring-managed transaction ({@link TransactionTemplate} over a {@link
 * DataSourceTransactionManager}, as {@code @Transactional} does): the connection Spring binds to
 * the transaction, {@link DataSourceUtils#getConnection}, is the outbox's transaction handle, and
 * the business row written with {@link JdbcTemplate} and the message commit or roll back together.
 * The storage's own work runs on the same pool.
 */
abstract class SpringPublishContract {

  private final TestDatabase.Kind kind;
  private final String table;
  private final String orders;
  private final RecordingPublisher publisher = new RecordingPublisher();
  private HikariDataSource dataSource;
  private TransactionTemplate transactions;
  private JdbcTemplate jdbc;
  private Outbox<Connection> outbox;

  SpringPublishContract(TestDatabase.Kind kind) {
    this.kind = kind;
    this.table = TestDatabase.PREFIX + "spring";
    this.orders = TestDatabase.PREFIX + "spring_orders";
  }

  @BeforeEach
  void springOverAPool() {
    TestDatabase.execute(
        kind,
        "DROP TABLE IF EXISTS " + table + "_dead_letters",
        "DROP TABLE IF EXISTS " + table,
        "DROP TABLE IF EXISTS " + orders,
        "CREATE TABLE " + orders + " (id BIGINT PRIMARY KEY)");
    dataSource = TestDatabase.pool(kind, true, 4);
    transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    jdbc = new JdbcTemplate(dataSource);
    JdbcStorage storage =
        JdbcStorage.builder(dataSource).dialect(kind.dialect()).tableName(table).build();
    storage.createSchema();
    outbox = Outbox.builder(storage, publisher).processorId("spring").build();
  }

  @AfterEach
  void close() {
    outbox.close();
    dataSource.close();
  }

  private static Message order(long id) {
    return Message.builder().namespace("orders").key(Long.toString(id)).payload("o" + id).build();
  }

  /** What an application's service method does inside its transaction. */
  private void placeOrder(long id) {
    jdbc.update("INSERT INTO " + orders + " (id) VALUES (?)", id);
    outbox.publish(DataSourceUtils.getConnection(dataSource), order(id));
  }

  @Test
  void aCommittedTransactionPublishes() {
    transactions.executeWithoutResult(status -> placeOrder(1));

    assertThat(outbox.pumpOutbox().published()).isEqualTo(1);
    assertThat(publisher.messages()).containsExactly(order(1));
    assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM " + orders, Long.class)).isEqualTo(1);
  }

  @Test
  void aRolledBackTransactionLeavesNothing() {
    transactions.executeWithoutResult(
        status -> {
          placeOrder(2);
          status.setRollbackOnly();
        });
    assertThatThrownBy(
            () ->
                transactions.executeWithoutResult(
                    status -> {
                      placeOrder(3);
                      throw new IllegalStateException("business rule failed");
                    }))
        .hasMessage("business rule failed");

    assertThat(outbox.pumpOutbox().claimed()).isZero();
    assertThat(publisher.count()).isZero();
    assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM " + orders, Long.class)).isZero();
    assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM " + table, Long.class)).isZero();
  }

  @Test
  void withoutATransactionSpringsConnectionIsInAutoCommitModeAndRefused() {
    Connection c = DataSourceUtils.getConnection(dataSource);
    try {
      assertThatThrownBy(() -> outbox.publish(c, order(4)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("auto-commit");
    } finally {
      DataSourceUtils.releaseConnection(c, dataSource);
    }
  }
}
