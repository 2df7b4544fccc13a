package dev.outbox.jdbc;

/**
 * {@link CrashHarness} on MySQL/MariaDB (the URL in {@code OUTBOX_TEST_MYSQL_URL}; MariaDB 10.11
 * here): kill -9 of processor JVMs mid-drain loses nothing.
 */
class MariaDbCrashTest extends CrashHarness {
  MariaDbCrashTest() {
    super(TestDatabase.Kind.MYSQL);
  }
}
