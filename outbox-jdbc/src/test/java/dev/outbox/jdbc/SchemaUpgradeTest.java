package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.NewEntry;
import dev.outbox.Ordering;
import dev.outbox.OutboxException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The upgrade scripts ({@code dev/outbox/<db>/upgrade-message-ids.sql}, {@code
 * upgrade-order-key.sql}) turn tables of the previous schemas, with entries in them, into tables
 * this storage works with.
 */
class SchemaUpgradeTest {

  @Test
  void postgresTablesOfThePreviousSchemaAreUpgraded() {
    upgrade(TestDatabase.Kind.POSTGRES, "now()");
  }

  @Test
  void mysqlTablesOfThePreviousSchemaAreUpgraded() {
    upgrade(TestDatabase.Kind.MYSQL, "NOW(6)");
  }

  @Test
  void postgresTablesBeforeOrderingAreUpgraded() {
    upgradeForOrdering(TestDatabase.Kind.POSTGRES, "now()");
  }

  @Test
  void mysqlTablesBeforeOrderingAreUpgraded() {
    upgradeForOrdering(TestDatabase.Kind.MYSQL, "NOW(6)");
  }

  /**
   * Tables of the schema before order_key: an unordered storage's createSchema and work go on
   * unchanged; an ordered storage's createSchema names the upgrade script; after it, the ordered
   * storage works, the old entry is delivered (unordered) and new ones in order.
   */
  private static void upgradeForOrdering(TestDatabase.Kind kind, String now) {
    String t = TestDatabase.PREFIX + "upgrade_ord";
    boolean pg = kind == TestDatabase.Kind.POSTGRES;
    JdbcStorage unordered = TestDatabase.freshStorage(kind, t);
    TestDatabase.execute(
        kind,
        pg ? "DROP INDEX " + t + "_order_idx" : "ALTER TABLE " + t + " DROP INDEX order_idx",
        pg
            ? "DROP INDEX " + t + "_dl_order_idx"
            : "ALTER TABLE " + t + "_dead_letters DROP INDEX order_idx",
        "ALTER TABLE " + t + " DROP COLUMN order_key",
        "ALTER TABLE " + t + "_dead_letters DROP COLUMN order_key",
        "DROP TABLE IF EXISTS " + t + "_key_locks",
        "INSERT INTO "
            + t
            + " (message_id, namespace, msg_key, payload, headers, created_at, available_at)"
            + " VALUES ("
            + (pg ? "gen_random_uuid()" : "UNHEX(REPLACE(UUID(), '-', ''))")
            + ", 'ord', 'k', 'old', '{}', "
            + now
            + ", "
            + now
            + ")");
    unordered.createSchema(); // at every start: leaves the old tables alone
    JdbcStorage ordered =
        JdbcStorage.builder(TestDatabase.dataSource(kind))
            .dialect(kind.dialect())
            .tableName(t)
            .ordering(Ordering.BY_KEY)
            .build();
    assertThatThrownBy(ordered::createSchema)
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("upgrade-order-key.sql");

    String resource = (pg ? "dev/outbox/postgres/" : "dev/outbox/mysql/") + "upgrade-order-key.sql";
    TableName name = TableName.parse(t, ordered.dialect().identifiers());
    TestDatabase.execute(
        kind, SchemaScript.statements(SchemaScript.render(resource, name)).toArray(new String[0]));
    ordered.createSchema();
    publish(kind, ordered, "new-1", "new-2");

    Instant later = Instant.now().plusSeconds(3600);
    List<ClaimedEntry> first =
        ordered.claim(
            new ClaimRequest("p", UUID.randomUUID(), later, later.plusSeconds(30), 10, 1));
    assertThat(first)
        .as("the old entry has no order key (delivered unordered); new ones are ordered")
        .extracting(e -> e.message().payloadAsString())
        .containsExactly("old", "new-1");
  }

  private static void publish(TestDatabase.Kind kind, JdbcStorage storage, String... payloads) {
    try (Connection c = TestDatabase.dataSource(kind).getConnection()) {
      c.setAutoCommit(false);
      List<NewEntry> entries = new ArrayList<>();
      for (String p : payloads) {
        entries.add(
            new NewEntry(
                UUID.randomUUID(),
                Message.builder().namespace("ord").key("k").payload(p).build(),
                Instant.now()));
      }
      storage.publish(c, entries);
      c.commit();
      c.setAutoCommit(true);
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  private static void upgrade(TestDatabase.Kind kind, String now) {
    String t = TestDatabase.PREFIX + "upgrade";
    JdbcStorage storage = TestDatabase.freshStorage(kind, t);
    // The previous schema: the same tables without message_id and claim_token.
    TestDatabase.execute(
        kind,
        "ALTER TABLE " + t + " DROP COLUMN message_id",
        "ALTER TABLE " + t + " DROP COLUMN claim_token",
        "ALTER TABLE " + t + "_dead_letters DROP COLUMN message_id",
        "INSERT INTO "
            + t
            + " (namespace, payload, headers, created_at, available_at) VALUES ('old', 'p', '{}', "
            + now
            + ", "
            + now
            + ")",
        "INSERT INTO "
            + t
            + "_dead_letters (id, namespace, payload, headers, created_at, attempts, last_error,"
            + " dead_lettered_at) VALUES (1000, 'old', 'dead', '{}', "
            + now
            + ", 3, 'e', "
            + now
            + ")");
    String resource =
        (kind == TestDatabase.Kind.POSTGRES ? "dev/outbox/postgres/" : "dev/outbox/mysql/")
            + "upgrade-message-ids.sql";
    TableName name = TableName.parse(t, storage.dialect().identifiers());

    TestDatabase.execute(
        kind, SchemaScript.statements(SchemaScript.render(resource, name)).toArray(new String[0]));

    assertThat(storage.requeueAllDeadLetters(Instant.now())).isEqualTo(1);
    Instant later = Instant.now().plusSeconds(3600);
    UUID token = UUID.randomUUID();
    List<ClaimedEntry> claimed =
        storage.claim(new ClaimRequest("p", token, later, later.plusSeconds(30), 10));
    assertThat(claimed).extracting(e -> e.message().payloadAsString()).containsExactly("p", "dead");
    assertThat(claimed)
        .extracting(ClaimedEntry::messageId)
        .doesNotContainNull()
        .doesNotHaveDuplicates();
    assertThat(storage.delete(token, claimed.stream().map(ClaimedEntry::id).toList())).isEqualTo(2);
  }
}
