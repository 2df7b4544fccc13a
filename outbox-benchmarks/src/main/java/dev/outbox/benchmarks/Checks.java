package dev.outbox.benchmarks;

import java.sql.SQLException;

/** Sanity checks that keep a broken run from printing a figure. */
final class Checks {

  private Checks() {}

  /**
   * Fails unless a drain handled exactly the backlog and left the table empty: a figure for a drain
   * that lost or duplicated messages would be meaningless.
   */
  static void drained(SqlDatabase db, long backlog, long handled, String what) throws SQLException {
    long left = db.count();
    if (handled != backlog || left != 0) {
      throw new IllegalStateException(
          what
              + " handled "
              + handled
              + " of "
              + backlog
              + " messages and left "
              + left
              + " in the table; the figure would be wrong");
    }
  }
}
