package dev.outbox.jdbc;

/** {@link CrashHarness} on PostgreSQL with {@link LeaseMode#LOCK}. */
class PostgresLockCrashTest extends CrashHarness {
  PostgresLockCrashTest() {
    super(TestDatabase.Kind.POSTGRES, LeaseMode.LOCK);
  }
}
