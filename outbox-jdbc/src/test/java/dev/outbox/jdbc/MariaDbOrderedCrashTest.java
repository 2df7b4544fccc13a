package dev.outbox.jdbc;

/**
 * {@link OrderedCrashHarness} on MySQL/MariaDB (the URL in {@code OUTBOX_TEST_MYSQL_URL}; MariaDB
 * 10.11 here): per-key order survives kill -9 and killed connections.
 */
class MariaDbOrderedCrashTest extends OrderedCrashHarness {
  MariaDbOrderedCrashTest() {
    super(TestDatabase.Kind.MYSQL);
  }
}
