package dev.outbox.benchmarks;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The database's own limits: plain-SQL loops over the same rows and batch size as the outbox drain,
 * with no Java work between statements. A relay cannot beat them; the ratio of our drain to them
 * says how much the library costs on top.
 */
final class SqlLimits {

  private final SqlDatabase db;
  private final Options o;
  private final byte[] payload;

  SqlLimits(SqlDatabase db, Options o, byte[] payload) {
    this.db = db;
    this.o = o;
    this.payload = payload;
  }

  /** Loads a backlog and drains it with the lease loop; see {@link DrainResult}. */
  DrainResult lease(int threads, int backlog) throws Exception {
    return drain(threads, backlog, true);
  }

  /** Loads a backlog and drains it with the delete loop; see {@link DrainResult}. */
  DrainResult delete(int threads, int backlog) throws Exception {
    return drain(threads, backlog, false);
  }

  private DrainResult drain(int threads, int backlog, boolean lease) throws Exception {
    Timings timings = new Timings();
    db.reset();
    db.loadBacklog(backlog, payload);
    long[] r =
        Parallel.run(
            threads,
            i ->
                () -> {
                  try (Connection c = db.ds.getConnection()) {
                    db.prepareLoopConnection(c);
                    String processor = "sql-" + i;
                    return Parallel.untilEmpty(
                        () ->
                            retryingConflicts(
                                c,
                                () ->
                                    lease
                                        ? db.leaseOnce(c, processor, o.batch(), timings)
                                        : db.deleteOnce(c, o.batch(), timings)));
                  }
                });
    Checks.drained(db, backlog, r[1], lease ? "lease loop" : "delete loop");
    return DrainResult.of(backlog, r, timings);
  }

  /**
   * Runs a step, rolling back and retrying it when the database reports a deadlock or a
   * serialization failure (InnoDB may under concurrent claims); a retry counts as no work done.
   */
  static int retryingConflicts(Connection c, Parallel.Step step) throws Exception {
    while (true) {
      try {
        return step.run();
      } catch (SQLException e) {
        if (!"40001".equals(e.getSQLState()) && e.getErrorCode() != 1213) {
          throw e;
        }
        if (!c.getAutoCommit()) {
          c.rollback();
        }
      }
    }
  }
}
