package dev.outbox.jdbc;

/** {@link CrashHarness} on PostgreSQL: kill -9 of processor JVMs mid-drain loses nothing. */
class PostgresCrashTest extends CrashHarness {
  PostgresCrashTest() {
    super(TestDatabase.Kind.POSTGRES);
  }
}
