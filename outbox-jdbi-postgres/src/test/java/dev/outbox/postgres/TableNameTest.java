package dev.outbox.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Table-name and channel validation; needs no database. */
class TableNameTest {

  private static final Jdbi NO_DATABASE = Jdbi.create("jdbc:postgresql://unused.invalid/none");

  @ParameterizedTest
  @ValueSource(strings = {"outbox", "_outbox", "orders_outbox_2", "app.outbox", "a.b"})
  void acceptsPlainAndSchemaQualifiedIdentifiers(String name) {
    PostgresStorage storage = PostgresStorage.builder(NO_DATABASE).tableName(name).build();

    assertThat(storage.tableName()).isEqualTo(name);
    assertThat(storage.deadLetterTableName()).isEqualTo(name + "_dead_letters");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "outbox; DROP TABLE users",
        "outbox--",
        "\"outbox\"",
        "Outbox",
        "1outbox",
        "out box",
        "a.b.c",
        ".outbox",
        "app.",
        "outbox'",
        "outbox\u0000"
      })
  void refusesAnythingButAPlainIdentifierAndNamesTheValue(String name) {
    assertThatThrownBy(() -> PostgresStorage.builder(NO_DATABASE).tableName(name).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tableName \"" + name + "\"");
  }

  @Test
  void refusesANullTableName() {
    assertThatThrownBy(() -> PostgresStorage.builder(NO_DATABASE).tableName(null).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tableName must not be null");
  }

  @Test
  void refusesATableNameTooLongForItsDeadLetterTable() {
    String name = "t".repeat(51);

    assertThatThrownBy(() -> PostgresStorage.builder(NO_DATABASE).tableName(name).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("51 characters long; the limit is 50");
    assertThat(PostgresStorage.builder(NO_DATABASE).tableName("t".repeat(50)).build().tableName())
        .hasSize(50);
  }

  @Test
  void theNotifyChannelDefaultsToTheTableNameAndCanBeChangedOrTurnedOff() {
    assertThat(PostgresStorage.builder(NO_DATABASE).build().notifyChannel()).contains("outbox");
    assertThat(PostgresStorage.builder(NO_DATABASE).tableName("app.jobs").build().notifyChannel())
        .contains("app.jobs");
    assertThat(
            PostgresStorage.builder(NO_DATABASE).notifyChannel("Wake Up!").build().notifyChannel())
        .contains("Wake Up!");
    assertThat(PostgresStorage.builder(NO_DATABASE).notifyOnPublish(false).build().notifyChannel())
        .isEmpty();
  }

  @Test
  void refusesAnUnusableChannelAndReportsEveryBadSettingAtOnce() {
    assertThatThrownBy(
            () ->
                PostgresStorage.builder(NO_DATABASE)
                    .tableName("bad name")
                    .notifyChannel("c".repeat(64))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tableName \"bad name\"")
        .hasMessageContaining("notifyChannel")
        .hasMessageContaining("at most 63");
  }

  @Test
  void theSchemaScriptIsRenderedForTheConfiguredName() {
    String sql = PostgresStorage.builder(NO_DATABASE).tableName("app.jobs").build().schemaSql();

    assertThat(sql)
        .contains("CREATE TABLE IF NOT EXISTS \"app\".\"jobs\" (")
        .contains("CREATE TABLE IF NOT EXISTS \"app\".\"jobs_dead_letters\" (")
        .doesNotContain("TABLE IF NOT EXISTS outbox")
        .contains("dev.outbox:outbox-jdbi-postgres");
  }

  @Test
  void theWakeupListenerValidatesItsSettings() {
    assertThatThrownBy(
            () ->
                PostgresWakeupListener.builder("jdbc:postgresql://unused.invalid/none")
                    .channel("")
                    .reconnectBackoff(
                        java.time.Duration.ofSeconds(5), java.time.Duration.ofSeconds(1))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("channel \"\" is empty")
        .hasMessageContaining("reconnectBackoff initial PT5S is above its max PT1S");
    assertThatThrownBy(() -> PostgresWakeupListener.builder("jdbc:mysql://x/y?password=secret"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("jdbc:postgresql:")
        .hasMessageNotContaining("secret");
  }
}
