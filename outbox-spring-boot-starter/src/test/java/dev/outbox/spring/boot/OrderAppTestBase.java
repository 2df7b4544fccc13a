package dev.outbox.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.ClaimedEntry;
import dev.outbox.Outbox;
import dev.outbox.spring.boot.app.OrderService;
import dev.outbox.spring.boot.app.Orders;
import dev.outbox.testkit.RecordingPublisher;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The starter inside a real Spring Boot application, on a real database, over real HTTP: a
 * {@code @Transactional} service writes a row and publishes; the processor runs in the
 * application's lifecycle. Subclasses choose the database and the transaction manager (JDBC or
 * JPA).
 *
 * <p>The processor's interval is a minute and its busy polling is off, so a message published
 * within seconds of the commit was published because the commit woke the processor.
 */
abstract class OrderAppTestBase {

  static final Duration PUBLISHED_WITHIN = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = JsonMapper.builder().build();

  @Autowired OrderService orders;
  @Autowired TransactionalOutbox outbox;
  @Autowired Outbox<Connection> core;
  @Autowired RecordingPublisher publisher;
  @Autowired JdbcTemplate jdbc;
  @Autowired PlatformTransactionManager transactionManager;

  @Value("${outbox.jdbc.table-name}")
  String outboxTable;

  @LocalServerPort int port;

  private final HttpClient http = HttpClient.newHttpClient();

  /** The transaction manager class the application is expected to run on. */
  abstract String expectedTransactionManager();

  @BeforeEach
  void reset() {
    orders.reset();
    core.pumpOutbox(); // whatever an earlier test left in flight
    jdbc.update("DELETE FROM " + outboxTable);
    jdbc.update("DELETE FROM " + outboxTable + "_dead_letters");
    publisher.succeed();
    publisher.clear();
  }

  @Test
  void runsOnTheExpectedTransactionManager() {
    assertThat(transactionManager.getClass().getName()).isEqualTo(expectedTransactionManager());
    assertThat(core.isRunning()).as("the processor runs in the application").isTrue();
  }

  @Test
  void commitPublishesExactlyOnceWithinMilliseconds() {
    AtomicLong handedToPublisher = new AtomicLong();
    publisher.beforePublish(batch -> handedToPublisher.set(System.nanoTime()));
    try {
      for (String id : List.of("o-commit-1", "o-commit-2")) {
        handedToPublisher.set(0);
        long before = System.nanoTime();
        orders.place(id, false);
        long committed = System.nanoTime();
        await()
            .atMost(PUBLISHED_WITHIN)
            .pollInterval(Duration.ofMillis(1))
            .until(() -> handedToPublisher.get() != 0);
        System.out.printf(
            "[%s] %s: commit to publisher call %.1f ms (service call %.1f ms;"
                + " process-interval 1 min, busy polling off)%n",
            getClass().getSimpleName(),
            id,
            (handedToPublisher.get() - committed) / 1e6,
            (committed - before) / 1e6);
      }
    } finally {
      publisher.beforePublish(batch -> {});
    }
    await().atMost(PUBLISHED_WITHIN).until(() -> publisher.count() == 2);

    assertThat(orders.count("o-commit-1")).isEqualTo(1);
    List<ClaimedEntry> sent = publisher.published();
    assertThat(sent)
        .extracting(ClaimedEntry::message)
        .containsExactly(Orders.placed("o-commit-1"), Orders.placed("o-commit-2"));
    // Published once, deleted once: another pass finds nothing to send again.
    assertThat(core.pumpOutbox().claimed()).isZero();
    assertThat(publisher.count()).isEqualTo(2);
    assertThat(publisher.deliveriesOf(sent.get(0).id())).isEqualTo(1);
    assertThat(publisher.deliveriesOf(sent.get(1).id())).isEqualTo(1);
    assertThat(rows(outboxTable)).isZero();
  }

  @Test
  void exceptionRollsBackTheRowAndTheMessage() {
    assertThatThrownBy(() -> orders.place("o-rollback", true))
        .isInstanceOf(OrderService.OrderFailed.class);

    assertThat(orders.count("o-rollback")).isZero();
    assertThat(rows(outboxTable)).isZero();
    assertThat(core.pumpOutbox().claimed()).isZero();
    assertThat(publisher.count()).isZero();
  }

  @Test
  void publishingWithoutATransactionFailsAndWritesNothing() {
    assertThatThrownBy(() -> outbox.publish(Orders.placed("o-no-tx")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("needs an active Spring-managed transaction")
        .hasMessageContaining("outbox.transaction-mode=REQUIRED");
    assertThat(rows(outboxTable)).isZero();
  }

  @Test
  void endpointReportsTheProcessorAndTheBacklogOverHttp() throws Exception {
    HttpResponse<String> r = get("/actuator/outbox");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.path("processorId").asString()).isEqualTo(core.processorId());
    assertThat(body.path("processor").path("running").asBoolean()).isTrue();
    assertThat(body.path("processor").path("enabled").asBoolean()).isTrue();
    assertThat(body.path("backlog").path("pending").asLong()).isZero();
    assertThat(body.path("config").path("maxAttempts").asInt()).isEqualTo(1);
  }

  @Test
  void deadLettersAreListedRequeuedAndPurgedOverHttp() throws Exception {
    publisher.failPermanentlyWhen(e -> e.message().key() != null);
    orders.place("o-poison-1", false);
    orders.place("o-poison-2", false);
    await().atMost(PUBLISHED_WITHIN).until(() -> core.stats().deadLetters() == 2);

    HttpResponse<String> list = get("/actuator/outbox/dead-letters?limit=10");
    assertThat(list.statusCode()).as(list.body()).isEqualTo(200);
    JsonNode letters = JSON.readTree(list.body()).path("deadLetters");
    assertThat(letters.size()).isEqualTo(2);
    long first = letters.get(0).path("id").asLong();
    long second = letters.get(1).path("id").asLong();
    assertThat(letters.get(0).path("namespace").asString()).isEqualTo(OrderService.NAMESPACE);
    assertThat(letters.get(0).path("attempts").asInt()).isEqualTo(1);
    assertThat(letters.get(0).path("lastError").asString()).contains("told to fail");

    publisher.succeed();
    HttpResponse<String> requeued =
        post("/actuator/outbox/dead-letters/requeue", "{\"ids\":\"" + first + "\"}");
    assertThat(requeued.statusCode()).as(requeued.body()).isEqualTo(200);
    assertThat(JSON.readTree(requeued.body()).path("requeued").asInt()).isEqualTo(1);
    await().atMost(PUBLISHED_WITHIN).until(() -> publisher.count() == 1);
    assertThat(publisher.messages().get(0)).isEqualTo(Orders.placed("o-poison-1"));

    HttpResponse<String> purged = post("/actuator/outbox/dead-letters/purge", "{\"all\":true}");
    assertThat(purged.statusCode()).as(purged.body()).isEqualTo(200);
    assertThat(JSON.readTree(purged.body()).path("purged").asInt()).isEqualTo(1);
    assertThat(core.deadLetters().list(10)).isEmpty();
    assertThat(rows(outboxTable)).isZero();
    assertThat(second).isGreaterThan(first);

    HttpResponse<String> neither = post("/actuator/outbox/dead-letters/purge", "{}");
    assertThat(neither.statusCode()).isEqualTo(400);
    HttpResponse<String> unknown = post("/actuator/outbox/dead-letters/shred", "{\"all\":true}");
    assertThat(unknown.statusCode()).isEqualTo(400);
  }

  @Test
  void healthIsUpThenDownWhileTheBacklogAgesThenUpAgain() throws Exception {
    HttpResponse<String> up = get("/actuator/health/outbox");
    assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
    JsonNode upBody = JSON.readTree(up.body());
    assertThat(upBody.path("status").asString()).isEqualTo("UP");
    assertThat(upBody.path("details").path("processor").path("running").asBoolean()).isTrue();

    publisher.failAll(new IllegalStateException("broker down (test)"));
    orders.place("o-stuck", false);
    await()
        .atMost(PUBLISHED_WITHIN)
        .until(() -> core.stats().oldestPendingAge().compareTo(Duration.ofMillis(1200)) > 0);

    HttpResponse<String> down = get("/actuator/health/outbox");
    assertThat(down.statusCode()).as(down.body()).isEqualTo(503);
    JsonNode downBody = JSON.readTree(down.body());
    assertThat(downBody.path("status").asString()).isEqualTo("DOWN");
    assertThat(downBody.path("details").path("problems").get(0).asString())
        .contains("outbox.health.max-backlog-age");
    assertThat(downBody.path("details").path("backlog").path("pending").asLong()).isEqualTo(1);

    publisher.succeed();
    await().atMost(PUBLISHED_WITHIN).until(() -> publisher.count() == 1);
    assertThat(get("/actuator/health/outbox").statusCode()).isEqualTo(200);
  }

  long rows(String table) {
    return jdbc.queryForObject("SELECT COUNT(*) FROM " + table, Long.class);
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String json) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
