package dev.outbox.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.testing.TestDatabase.Source;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * The resolver's decisions, each against a real server: a given URL is used or fails loudly, and
 * with nothing given the embedded PostgreSQL and MariaDB start and take SQL.
 */
class TestDatabasesTest {

  private static final String PREFIX = "fresh_tdb_"; // our own tables on shared servers

  @Test
  void withNothingGivenAndNoDockerAnEmbeddedPostgresStartsAndTakesSql() throws Exception {
    TestDatabase db = TestDatabases.resolvePostgres(null, false);

    assertThat(db.source()).isEqualTo(Source.EMBEDDED);
    assertThat(db.description()).startsWith("embedded PostgreSQL 17.").contains(db.url());
    assertThat(db.url()).startsWith("jdbc:postgresql://127.0.0.1:").doesNotContain(":5432/");
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + PREFIX + "pg");
      s.execute("CREATE TABLE " + PREFIX + "pg (id bigint PRIMARY KEY, body text NOT NULL)");
      s.execute("INSERT INTO " + PREFIX + "pg VALUES (1, 'é and 😀')");
      try (ResultSet rs =
          s.executeQuery(
              "SELECT body, current_setting('server_version_num')::int"
                  + " FROM "
                  + PREFIX
                  + "pg")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("é and 😀");
        assertThat(rs.getInt(2)).as("server_version_num").isGreaterThanOrEqualTo(150000);
      }
    }
  }

  @Test
  void postgresFollowsTheEnvironment() throws Exception {
    // .ci/run runs this twice: with OUTBOX_TEST_POSTGRES_URL set, and with it unset.
    String given = System.getenv(TestDatabases.POSTGRES_URL_ENV);
    Source expected =
        given != null && !given.isBlank()
            ? Source.GIVEN_URL
            : TestDatabases.dockerAvailable() ? Source.TESTCONTAINERS : Source.EMBEDDED;

    TestDatabase db = TestDatabases.postgres();

    assertThat(db.source()).isEqualTo(expected);
    assertThat(TestDatabases.postgres()).isSameAs(db);
    try (Connection c = db.connect()) {
      assertThat(c.isValid(5)).isTrue();
    }
  }

  @Test
  void theEmbeddedPostgresIsStartedOncePerJvm() {
    assertThat(TestDatabases.embeddedPostgres()).isSameAs(TestDatabases.embeddedPostgres());
    assertThat(TestDatabases.resolvePostgres("  ", false))
        .as("a blank URL counts as none")
        .isSameAs(TestDatabases.embeddedPostgres());
  }

  @Test
  void aGivenUrlThatCannotBeReachedFailsLoudlyAndIsNeverReplaced() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    String url = "jdbc:postgresql://127.0.0.1:1/test?user=postgres&password=secret";

    assertThatThrownBy(() -> TestDatabases.resolvePostgres(url, false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(TestDatabases.POSTGRES_URL_ENV + " is jdbc:postgresql://127.0.0.1:1/")
        .hasMessageContaining("password=***")
        .hasMessageContaining("PostgreSQL cannot be reached there")
        .hasMessageNotContaining("secret");
  }

  @Test
  void aGivenReachableUrlIsUsedAsItIs() throws Exception {
    // The embedded server stands in for "a server someone gave us": no second server needed.
    String url = TestDatabases.embeddedPostgres().url();

    TestDatabase db = TestDatabases.resolvePostgres(url, false);

    assertThat(db.source()).isEqualTo(Source.GIVEN_URL);
    assertThat(db.url()).isEqualTo(url);
    assertThat(db.description()).startsWith("PostgreSQL 17.").contains(url);
    try (Connection c = db.connect()) {
      assertThat(c.isValid(5)).isTrue();
    }
  }

  @Test
  void withNothingGivenAndNoDockerAnEmbeddedMariaDbStartsAndTakesSql() throws Exception {
    TestDatabase db = TestDatabases.resolveMysql(null, false);

    assertThat(db.source()).isEqualTo(Source.EMBEDDED);
    assertThat(db.description()).startsWith("embedded MariaDB 11.4");
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + PREFIX + "my");
      s.execute(
          "CREATE TABLE "
              + PREFIX
              + "my (id bigint PRIMARY KEY, body text NOT NULL)"
              + " CHARACTER SET utf8mb4");
      s.execute("INSERT INTO " + PREFIX + "my VALUES (1, 'é and 😀')");
      try (ResultSet rs = s.executeQuery("SELECT body FROM " + PREFIX + "my")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("é and 😀");
      }
    }
  }

  @Test
  void aGivenMysqlUrlThatCannotBeReachedFailsLoudly() {
    String url = "jdbc:mysql://127.0.0.1:1/test?user=root&password=";

    assertThatThrownBy(() -> TestDatabases.resolveMysql(url, false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(TestDatabases.MYSQL_URL_ENV + " is " + url)
        .hasMessageContaining("MySQL/MariaDB cannot be reached there");
  }

  @Test
  void passwordsAreMaskedInDescriptions() {
    assertThat(TestDatabases.masked("jdbc:x://h/db?user=a&password=p4ss&b=c"))
        .isEqualTo("jdbc:x://h/db?user=a&password=***&b=c");
    assertThat(TestDatabases.masked("jdbc:x://h/db?user=a&password=&b=c"))
        .as("an empty password stays visibly empty")
        .isEqualTo("jdbc:x://h/db?user=a&password=&b=c");
  }
}
