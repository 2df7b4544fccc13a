package dev.outbox.jdbc;

import dev.outbox.OutboxException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the storage's own work on connections of its {@link DataSource} so that it is committed
 * whatever the pool's auto-commit default is, at the isolation the dialect asks for, and retries
 * work that the database rolled back as a deadlock victim, a serialization failure or a lock wait
 * timeout, a bounded number of times with a small jittered, doubling pause.
 *
 * <p>A connection is used as it comes from the pool and left as it was found:
 *
 * <ul>
 *   <li>auto-commit on, one statement ({@link #statement}): the statement commits itself; no
 *       toggle.
 *   <li>auto-commit on, several statements ({@link #transaction}): auto-commit is turned off for
 *       the work, the work is committed, and auto-commit is turned on again.
 *   <li>auto-commit off (Spring-style pools): the work, then {@code commit()}; on failure {@code
 *       rollback()}. Nothing is ever left uncommitted for the pool to roll back.
 * </ul>
 *
 * The pause is a real-time wait for the database, not a lease decision, so it does not go through
 * the outbox's {@code Clock}.
 */
final class Transactions {

  private static final Logger log = LoggerFactory.getLogger(Transactions.class);

  /** Doubling stops here. */
  private static final Duration MAX_PAUSE = Duration.ofSeconds(1);

  /** The work: statements on a connection. */
  @FunctionalInterface
  interface Work<R> {
    R run(Connection c) throws SQLException;
  }

  private final DataSource dataSource;
  private final JdbcDialect dialect;
  private final TableName table;
  private final int maxRetries;
  private final Duration initialPause;
  private final LongAdder retries = new LongAdder();

  Transactions(
      DataSource dataSource,
      JdbcDialect dialect,
      TableName table,
      int maxRetries,
      Duration initialPause) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.table = table;
    this.maxRetries = maxRetries;
    this.initialPause = initialPause;
  }

  /** How many units of work were retried after a transient conflict. */
  long retries() {
    return retries.sum();
  }

  /**
   * Runs work whose writes are one statement: under auto-commit it commits itself, which saves the
   * round trips of turning auto-commit off and on. Reads that follow the write may be part of it.
   */
  <R> R statement(String operation, Work<R> work) {
    return run(operation, false, work);
  }

  /** Runs work of several statements in one transaction that commits when it returns. */
  <R> R transaction(String operation, Work<R> work) {
    return run(operation, true, work);
  }

  private <R> R run(String operation, boolean atomic, Work<R> work) {
    for (int retry = 0; ; retry++) {
      try {
        return once(atomic, work);
      } catch (SQLException e) {
        String conflict = SqlErrors.transientConflict(e);
        if (conflict == null) {
          throw failure(operation, e);
        }
        if (retry >= maxRetries) {
          throw new OutboxException(
              operation
                  + " on "
                  + dialect.name()
                  + " table "
                  + table
                  + " failed: still a "
                  + conflict
                  + " after "
                  + retry
                  + " retries (maxRetries); "
                  + SqlErrors.describe(e),
              e);
        }
        retries.increment();
        long pauseMillis = pauseMillis(retry);
        log.info(
            "{} during {} on table {}; retry {} of {} in {} ms",
            conflict,
            operation,
            table,
            retry + 1,
            maxRetries,
            pauseMillis);
        pause(pauseMillis, operation, e);
      }
    }
  }

  private <R> R once(boolean atomic, Work<R> work) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      boolean toggle = atomic && autoCommit;
      if (toggle) {
        c.setAutoCommit(false);
      }
      try {
        dialect.beginWork(c);
        R result = work.run(c);
        if (!autoCommit || toggle) {
          c.commit();
        }
        return result;
      } catch (SQLException | RuntimeException | Error e) {
        if (!autoCommit || toggle) {
          try {
            c.rollback();
          } catch (SQLException rollbackFailure) {
            e.addSuppressed(rollbackFailure);
          }
        }
        throw e;
      } finally {
        if (toggle) {
          c.setAutoCommit(true);
        }
      }
    }
  }

  OutboxException failure(String operation, SQLException e) {
    return new OutboxException(
        operation
            + " on "
            + dialect.name()
            + " table "
            + table
            + " failed: "
            + SqlErrors.describe(e),
        e);
  }

  private long pauseMillis(int retry) {
    long base = initialPause.toMillis() << Math.min(retry, 20);
    long capped = Math.min(base, MAX_PAUSE.toMillis());
    // Jitter (between half and all of the pause) keeps two victims from meeting again in step.
    return capped <= 0 ? 0 : capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
  }

  private static void pause(long millis, String operation, SQLException cause) {
    if (millis <= 0) {
      return;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      OutboxException e =
          new OutboxException("interrupted while waiting to retry " + operation, cause);
      e.addSuppressed(ie);
      throw e;
    }
  }
}
