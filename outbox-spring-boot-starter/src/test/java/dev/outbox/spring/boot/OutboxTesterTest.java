package dev.outbox.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Outbox;
import dev.outbox.spring.boot.app.OrderService;
import dev.outbox.spring.boot.app.Orders;
import dev.outbox.spring.boot.app.jdbc.JdbcOrderApp;
import dev.outbox.spring.boot.test.EnableOutboxTester;
import dev.outbox.spring.boot.test.OutboxTester;
import dev.outbox.testing.TestDatabases;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The test support, as an application's own test would use it: pump synchronously, assert. */
@SpringBootTest(
    classes = JdbcOrderApp.class,
    properties = {
      "outbox.jdbc.table-name=spring_outbox_tester",
      "test.orders-table=spring_orders_tester",
      "outbox.processor.max-attempts=5"
    })
@EnableOutboxTester
class OutboxTesterTest {

  /** The database from TestDatabases: the URL in the environment, else an embedded server. */
  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", () -> TestDatabases.postgres().url());
  }

  @Autowired OrderService orders;
  @Autowired OutboxTester outbox;
  @Autowired Outbox<?> core;
  @Autowired JdbcTemplate jdbc;

  @BeforeEach
  void reset() {
    orders.reset();
    jdbc.update("DELETE FROM spring_outbox_tester");
    outbox.clear();
  }

  @Test
  void theBackgroundProcessorIsOffAndPumpPublishesSynchronously() {
    assertThat(core.isRunning()).isFalse();
    orders.place("o-1", false);
    orders.place("o-2", false);
    assertThat(outbox.published()).as("nothing is published behind the test's back").isEmpty();

    assertThat(outbox.pump()).containsExactly(Orders.placed("o-1"), Orders.placed("o-2"));
    assertThat(outbox.pump()).as("published once").isEmpty();
    assertThat(outbox.published()).hasSize(2);
  }

  @Test
  void aRolledBackOrderPublishesNothing() {
    try {
      orders.place("o-rollback", true);
    } catch (OrderService.OrderFailed expected) {
      // the transaction rolled back
    }
    assertThat(outbox.pump()).isEmpty();
  }

  @Test
  void retriesComeDueOnTheFakeClock() {
    // One entry fails beside one that goes through: a charged failure with a retry time (a batch
    // that fails whole is an outage and is given back uncharged, for at once).
    outbox.publisher().failWhen(e -> e.message().keyAsString().equals("o-retry"));
    orders.place("o-ok", false);
    orders.place("o-retry", false);
    assertThat(outbox.pump()).containsExactly(Orders.placed("o-ok"));

    outbox.publisher().succeed();
    assertThat(outbox.pump()).as("the retry is not due yet").isEmpty();
    assertThat(outbox.advance(Duration.ofMinutes(1))).containsExactly(Orders.placed("o-retry"));
  }
}
