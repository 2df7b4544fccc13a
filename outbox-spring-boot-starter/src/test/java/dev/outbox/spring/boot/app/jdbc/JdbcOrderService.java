package dev.outbox.spring.boot.app.jdbc;

import dev.outbox.spring.boot.TransactionalOutbox;
import dev.outbox.spring.boot.app.OrderService;
import dev.outbox.spring.boot.app.Orders;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Writes orders with JdbcTemplate in @Transactional methods. */
@Service
public class JdbcOrderService implements OrderService {

  private final JdbcTemplate jdbc;
  private final TransactionalOutbox outbox;
  private final String table;

  JdbcOrderService(
      JdbcTemplate jdbc, TransactionalOutbox outbox, @Value("${test.orders-table}") String table) {
    this.jdbc = jdbc;
    this.outbox = outbox;
    this.table = table;
  }

  @Override
  @Transactional
  public void place(String orderId, boolean fail) {
    jdbc.update("INSERT INTO " + table + " (id) VALUES (?)", orderId);
    outbox.publish(Orders.placed(orderId));
    if (fail) {
      throw new OrderFailed(orderId);
    }
  }

  @Override
  public long count(String orderId) {
    return jdbc.queryForObject(
        "SELECT COUNT(*) FROM " + table + " WHERE id = ?", Long.class, orderId);
  }

  @Override
  public String table() {
    return table;
  }

  @Override
  public void reset() {
    jdbc.execute("CREATE TABLE IF NOT EXISTS " + table + " (id VARCHAR(64) PRIMARY KEY)");
    jdbc.update("DELETE FROM " + table);
  }
}
