package dev.outbox.spring.boot.app.jpa;

import dev.outbox.spring.boot.TransactionalOutbox;
import dev.outbox.spring.boot.app.OrderService;
import dev.outbox.spring.boot.app.Orders;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Writes orders with Spring Data JPA (Hibernate) in @Transactional methods. */
@Service
public class JpaOrderService implements OrderService {

  static final String TABLE = "spring_orders_jpa";

  private final JpaOrderRepository orders;
  private final TransactionalOutbox outbox;
  private final JdbcTemplate jdbc;

  JpaOrderService(JpaOrderRepository orders, TransactionalOutbox outbox, JdbcTemplate jdbc) {
    this.orders = orders;
    this.outbox = outbox;
    this.jdbc = jdbc;
  }

  @Override
  @Transactional
  public void place(String orderId, boolean fail) {
    // flush: Hibernate's INSERT runs now, on the same connection as the outbox's below.
    orders.saveAndFlush(new JpaOrder(orderId));
    outbox.publish(Orders.placed(orderId));
    if (fail) {
      throw new OrderFailed(orderId);
    }
  }

  @Override
  public long count(String orderId) {
    return jdbc.queryForObject(
        "SELECT COUNT(*) FROM " + TABLE + " WHERE id = ?", Long.class, orderId);
  }

  @Override
  public String table() {
    return TABLE;
  }

  @Override
  public void reset() {
    jdbc.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id VARCHAR(64) PRIMARY KEY)");
    jdbc.update("DELETE FROM " + TABLE);
  }
}
