package dev.outbox.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.Message;
import dev.outbox.Ordering;
import dev.outbox.Outbox;
import dev.outbox.spring.boot.app.OrderService;
import dev.outbox.spring.boot.app.jdbc.JdbcOrderApp;
import dev.outbox.testing.TestDatabases;
import dev.outbox.testkit.RecordingPublisher;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code outbox.jdbc.ordering=BY_KEY_BLOCKING} in a real application on PostgreSQL, over real HTTP:
 * a key whose first message is dead-lettered holds its later messages; the endpoint lists the key,
 * and requeueing its dead letter over HTTP lets the whole key through, in order.
 */
@SpringBootTest(
    classes = JdbcOrderApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "outbox.jdbc.table-name=spring_outbox_ordered",
      "outbox.jdbc.ordering=BY_KEY_BLOCKING",
      "test.orders-table=spring_orders_ordered"
    })
class PostgresOrderedAppTest {

  private static final ObjectMapper JSON = JsonMapper.builder().build();

  @Autowired TransactionalOutbox outbox;
  @Autowired Outbox<Connection> core;
  @Autowired RecordingPublisher publisher;
  @Autowired JdbcTemplate jdbc;
  @Autowired PlatformTransactionManager transactionManager;

  @LocalServerPort int port;

  private final HttpClient http = HttpClient.newHttpClient();

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", () -> TestDatabases.postgres().url());
  }

  private static Message event(String key, String payload) {
    return Message.builder()
        .namespace(OrderService.NAMESPACE)
        .key(key)
        .payload(payload.getBytes(StandardCharsets.UTF_8))
        .build();
  }

  @Test
  void aDeadLetteredHeadBlocksItsKeyUntilRequeuedOverHttp() throws Exception {
    assertThat(core.ordering()).isEqualTo(Ordering.BY_KEY_BLOCKING);
    core.pumpOutbox();
    jdbc.update("DELETE FROM spring_outbox_ordered");
    jdbc.update("DELETE FROM spring_outbox_ordered_dead_letters");
    publisher.clear();
    TransactionTemplate transactions = new TransactionTemplate(transactionManager);
    publisher.failPermanentlyWhen(e -> e.message().payloadAsString().equals("order-7 #1"));

    transactions.executeWithoutResult(
        s -> {
          outbox.publish(event("order-7", "order-7 #1"));
          outbox.publish(event("order-8", "order-8 #1"));
        });
    transactions.executeWithoutResult(
        s -> {
          outbox.publish(event("order-7", "order-7 #2"));
          outbox.publish(event("order-7", "order-7 #3"));
        });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> core.stats().deadLetters() == 1 && publisher.count() == 1);
    core.pumpOutbox();
    assertThat(publisher.messages())
        .extracting(Message::payloadAsString)
        .containsExactly("order-8 #1");

    HttpResponse<String> r = get("/actuator/outbox/blocked-keys");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.path("ordering").asString()).isEqualTo("BY_KEY_BLOCKING");
    JsonNode key = body.path("blockedKeys").get(0);
    assertThat(body.path("blockedKeys").size()).isEqualTo(1);
    assertThat(new String(Base64.getDecoder().decode(key.path("keyBase64").asString())))
        .isEqualTo("order-7");
    assertThat(key.path("waiting").asLong()).isEqualTo(2);
    long deadLetter = key.path("deadLetterIds").get(0).asLong();
    assertThat(JSON.readTree(get("/actuator/outbox").body()).path("ordering").asString())
        .isEqualTo("BY_KEY_BLOCKING");

    publisher.succeed();
    HttpResponse<String> requeued =
        post("/actuator/outbox/dead-letters/requeue", "{\"ids\":\"" + deadLetter + "\"}");
    assertThat(requeued.statusCode()).as(requeued.body()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> publisher.count() == 4);
    assertThat(publisher.messages())
        .extracting(Message::payloadAsString)
        .containsExactly("order-8 #1", "order-7 #1", "order-7 #2", "order-7 #3");
    assertThat(
            JSON.readTree(get("/actuator/outbox/blocked-keys").body()).path("blockedKeys").size())
        .isZero();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String json) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
