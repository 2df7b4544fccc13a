package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Dialect detection, and the builder's checks, on both databases. */
class JdbcDialectTest {

  @Test
  void detectsEachDatabaseFromItsMetadata() {
    assertThat(JdbcDialect.detect(TestDatabase.dataSource(TestDatabase.Kind.POSTGRES)).name())
        .isEqualTo("PostgreSQL");
    assertThat(JdbcDialect.detect(TestDatabase.dataSource(TestDatabase.Kind.MYSQL)).name())
        .isEqualTo("MySQL/MariaDB");
    assertThat(JdbcDialect.forProduct("MariaDB").name()).isEqualTo("MySQL/MariaDB");
  }

  @Test
  void aBuilderWithoutADialectDetectsIt() {
    JdbcStorage storage =
        JdbcStorage.builder(TestDatabase.dataSource(TestDatabase.Kind.MYSQL))
            .tableName("shop_1.Outbox_2")
            .build();

    assertThat(storage.dialect().name()).isEqualTo("MySQL/MariaDB");
    assertThat(storage.schemaSql())
        .contains("CREATE TABLE IF NOT EXISTS `shop_1`.`Outbox_2` (")
        .contains("CREATE TABLE IF NOT EXISTS `shop_1`.`Outbox_2_dead_letters` (");
  }

  @Test
  void anUnknownProductIsNamed() {
    assertThatThrownBy(() -> JdbcDialect.forProduct("Oracle"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"Oracle\"")
        .hasMessageContaining("PostgreSQL, MySQL and MariaDB");
  }

  @Test
  void everyBadSettingIsNamedAtOnce() {
    assertThatThrownBy(
            () ->
                JdbcStorage.builder(TestDatabase.dataSource(TestDatabase.Kind.POSTGRES))
                    .dialect(JdbcDialect.postgres())
                    .tableName("Outbox")
                    .maxRetries(101)
                    .retryBackoff(Duration.ofSeconds(11))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tableName \"Outbox\" is not allowed")
        .hasMessageContaining("maxRetries is 101; allowed are 0 to 100")
        .hasMessageContaining("retryBackoff is PT11S; allowed are 0 to PT10S");
    assertThatThrownBy(() -> JdbcDialect.postgres("c".repeat(64)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 63");
  }

  @Test
  void theSchemaFilesNameTheNewColumns() {
    JdbcStorage pg =
        JdbcStorage.builder(TestDatabase.dataSource(TestDatabase.Kind.POSTGRES))
            .dialect(JdbcDialect.postgres())
            .tableName("app.jobs")
            .build();
    assertThat(pg.schemaSql())
        .contains("CREATE TABLE IF NOT EXISTS \"app\".\"jobs\" (")
        .contains("message_id   uuid        NOT NULL")
        .contains("claim_token  uuid");
    assertThat(pg.toString()).contains("PostgreSQL").contains("app.jobs");
  }
}
