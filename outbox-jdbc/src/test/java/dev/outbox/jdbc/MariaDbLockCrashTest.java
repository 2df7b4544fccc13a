package dev.outbox.jdbc;

/** {@link CrashHarness} on MySQL/MariaDB with {@link LeaseMode#LOCK}. */
class MariaDbLockCrashTest extends CrashHarness {
  MariaDbLockCrashTest() {
    super(TestDatabase.Kind.MYSQL, LeaseMode.LOCK);
  }
}
