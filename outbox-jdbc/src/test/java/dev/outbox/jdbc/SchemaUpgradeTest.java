package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The upgrade scripts ({@code dev/outbox/<db>/upgrade-message-ids.sql}) turn tables of the previous
 * schema, with an entry and a dead letter in them, into tables this storage works with.
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
