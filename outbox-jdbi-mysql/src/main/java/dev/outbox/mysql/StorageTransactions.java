package dev.outbox.mysql;

import dev.outbox.OutboxException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the storage's own work in short READ COMMITTED transactions and retries the ones InnoDB
 * chose as deadlock victims (or whose lock wait timed out), a bounded number of times with a small
 * jittered, doubling pause. Other failures become {@link OutboxException}s naming the operation and
 * the table.
 *
 * <p>Why READ COMMITTED: under REPEATABLE READ (the server default) a locking read or a {@code
 * DELETE ... WHERE id IN (...)} that meets a missing id or scans to the end of the table takes gap
 * and next-key locks, which block the producers' inserts and close deadlock cycles with them. READ
 * COMMITTED takes record locks only and releases those of rows that did not match. It is set for
 * the next transaction only ({@code SET TRANSACTION}), so a pooled connection's session level is
 * left as it was.
 *
 * <p>The pause is a real-time wait for the database, not a lease decision, so it does not go
 * through the outbox's {@code Clock} (a fake clock in a test would never release it).
 */
final class StorageTransactions {

  private static final Logger log = LoggerFactory.getLogger(StorageTransactions.class);

  /** Doubling stops here. */
  private static final Duration MAX_PAUSE = Duration.ofSeconds(1);

  private final Jdbi jdbi;
  private final TableName table;
  private final int maxRetries;
  private final Duration initialPause;
  private final LongAdder retries = new LongAdder();

  StorageTransactions(Jdbi jdbi, TableName table, int maxRetries, Duration initialPause) {
    this.jdbi = jdbi;
    this.table = table;
    this.maxRetries = maxRetries;
    this.initialPause = initialPause;
  }

  /** How many transactions were retried after a deadlock or lock wait timeout. */
  long retries() {
    return retries.sum();
  }

  /**
   * Runs {@code work} in a READ COMMITTED transaction that commits when it returns, retrying
   * deadlock victims.
   *
   * @param operation what the work does, for log and error messages ("claim entries")
   */
  <R> R inTransaction(String operation, HandleCallback<R, RuntimeException> work) {
    for (int retry = 0; ; retry++) {
      try {
        return jdbi.inTransaction(
            h -> {
              h.execute(Sql.READ_COMMITTED);
              return work.withHandle(h);
            });
      } catch (JdbiException e) {
        Conflict conflict = Conflict.of(e);
        if (conflict == null) {
          throw failure(operation, e);
        }
        if (retry >= maxRetries) {
          throw new OutboxException(
              "could not "
                  + operation
                  + " in table "
                  + table
                  + ": still a "
                  + conflict.description
                  + " after "
                  + retry
                  + " retries (maxDeadlockRetries)",
              e);
        }
        retries.increment();
        long pauseMillis = pauseMillis(retry);
        log.info(
            "{} while trying to {} in table {}; retry {} of {} in {} ms",
            conflict.description,
            operation,
            table,
            retry + 1,
            maxRetries,
            pauseMillis);
        pause(pauseMillis, operation, e);
      }
    }
  }

  /** Runs read-only {@code work} on a handle in auto-commit mode. */
  <R> R withHandle(String operation, HandleCallback<R, RuntimeException> work) {
    try {
      return jdbi.withHandle(work);
    } catch (JdbiException e) {
      throw failure(operation, e);
    }
  }

  OutboxException failure(String operation, JdbiException e) {
    return new OutboxException(
        "could not " + operation + " in table " + table + ": " + describe(e), e);
  }

  /** The SQL error's code, state and text when there is one; else the exception's message. */
  static String describe(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql) {
        return sql.getMessage()
            + " (error "
            + sql.getErrorCode()
            + ", SQLState "
            + sql.getSQLState()
            + ")";
      }
    }
    return String.valueOf(e.getMessage());
  }

  private long pauseMillis(int retry) {
    long base = initialPause.toMillis() << Math.min(retry, 20);
    long capped = Math.min(base, MAX_PAUSE.toMillis());
    // Jitter (between half and all of the pause) keeps two victims from meeting again in step.
    return capped <= 0 ? 0 : capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
  }

  private static void pause(long millis, String operation, JdbiException cause) {
    if (millis <= 0) {
      return;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      OutboxException e =
          new OutboxException("interrupted while waiting to retry: " + operation, cause);
      e.addSuppressed(ie);
      throw e;
    }
  }

  /** A transient lock conflict that a retry of the whole transaction resolves. */
  enum Conflict {
    DEADLOCK("deadlock"),
    LOCK_WAIT_TIMEOUT("lock wait timeout");

    /** ER_LOCK_DEADLOCK. */
    static final int DEADLOCK_ERROR = 1213;

    /** ER_LOCK_WAIT_TIMEOUT. */
    static final int LOCK_WAIT_TIMEOUT_ERROR = 1205;

    final String description;

    Conflict(String description) {
      this.description = description;
    }

    /** The conflict behind {@code e}, or {@code null} when it is some other failure. */
    static Conflict of(Throwable e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof SQLException sql) {
          if (sql.getErrorCode() == DEADLOCK_ERROR) {
            return DEADLOCK;
          }
          if (sql.getErrorCode() == LOCK_WAIT_TIMEOUT_ERROR) {
            return LOCK_WAIT_TIMEOUT;
          }
          if ("40001".equals(sql.getSQLState())) {
            return DEADLOCK; // serialization failure: the transaction was rolled back
          }
        }
      }
      return null;
    }
  }
}
