package dev.outbox.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.DeadLetterStorage;
import dev.outbox.Ordering;
import dev.outbox.StatisticsStorage;
import java.time.Duration;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Builder validation; needs no database (building never connects). */
class MySqlStorageBuilderTest {

  private final Jdbi unused = Jdbi.create("jdbc:mysql://127.0.0.1:1/never-connected");

  @ParameterizedTest
  @ValueSource(
      strings = {
        "outbox; DROP TABLE users",
        "outbox`",
        "`outbox`",
        "out box",
        "outbox--",
        "1outbox",
        "",
        "a.b.c",
        ".outbox",
        "shop.",
        "outbox'",
        "ünïcode",
        "a_table_name_that_is_far_too_long_for_the_dead_letters_suffix"
      })
  void refusesATableNameThatIsNotAPlainIdentifier(String bad) {
    assertThatThrownBy(() -> MySqlStorage.builder(unused).tableName(bad).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tableName")
        .hasMessageContaining("\"" + bad + "\"");
  }

  @Test
  void refusesANullTableName() {
    assertThatThrownBy(() -> MySqlStorage.builder(unused).tableName(null).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tableName must not be null");
  }

  @ParameterizedTest
  @ValueSource(strings = {"outbox", "Outbox_2", "_events", "shop.outbox", "shop_1.order_outbox"})
  void acceptsPlainAndQualifiedIdentifiers(String good) {
    MySqlStorage storage = MySqlStorage.builder(unused).tableName(good).build();

    assertThat(storage.tableName()).isEqualTo(good);
  }

  @Test
  void quotesQualifiedNamesInTheSchema() {
    MySqlStorage storage = MySqlStorage.builder(unused).tableName("shop.events").build();

    assertThat(storage.schemaSql())
        .contains("CREATE TABLE IF NOT EXISTS `shop`.`events` (")
        .contains("CREATE TABLE IF NOT EXISTS `shop`.`events_dead_letters` (")
        .doesNotContain("`outbox");
  }

  @Test
  void defaultsWork() {
    MySqlStorage storage = MySqlStorage.builder(unused).build();

    assertThat(storage.tableName()).isEqualTo("outbox");
    assertThat(storage).isInstanceOf(DeadLetterStorage.class).isInstanceOf(StatisticsStorage.class);
    assertThat(storage.deadlockRetries()).isZero();
    assertThat(storage.toString())
        .isEqualTo(
            "MySqlStorage{table=outbox, maxDeadlockRetries=5, deadlockRetryBackoff=PT0.01S,"
                + " ordering=NONE}");
    assertThat(storage.ordering()).isEqualTo(Ordering.NONE);
  }

  @Test
  void orderingReachesTheEngine() {
    MySqlStorage storage = MySqlStorage.builder(unused).ordering(Ordering.BY_KEY_BLOCKING).build();

    assertThat(storage.ordering()).isEqualTo(Ordering.BY_KEY_BLOCKING);
    assertThat(storage.jdbcStorage().ordering()).isEqualTo(Ordering.BY_KEY_BLOCKING);
  }

  @Test
  void reportsEveryBadSettingAtOnce() {
    assertThatThrownBy(
            () ->
                MySqlStorage.builder(unused)
                    .tableName("x y")
                    .maxDeadlockRetries(-1)
                    .deadlockRetryBackoff(Duration.ofMinutes(1))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tableName \"x y\"")
        .hasMessageContaining("maxDeadlockRetries is -1; allowed are 0 to 100")
        .hasMessageContaining("deadlockRetryBackoff is PT1M; allowed are 0 to PT10S");
  }

  @Test
  void refusesANullJdbi() {
    assertThatThrownBy(() -> MySqlStorage.builder(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("jdbi");
  }
}
