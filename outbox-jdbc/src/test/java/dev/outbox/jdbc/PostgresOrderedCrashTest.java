package dev.outbox.jdbc;

/**
 * {@link OrderedCrashHarness} on PostgreSQL: per-key order survives kill -9 and killed backends.
 */
class PostgresOrderedCrashTest extends OrderedCrashHarness {
  PostgresOrderedCrashTest() {
    super(TestDatabase.Kind.POSTGRES);
  }
}
