package dev.outbox.jdbc;

import java.sql.SQLException;

/**
 * SQLState and vendor-code classification, the same for every dialect: the codes do not overlap
 * (PostgreSQL reports error code 0 and SQLStates; MySQL and MariaDB report both).
 */
final class SqlErrors {

  /** ER_LOCK_DEADLOCK (MySQL, MariaDB). */
  static final int MYSQL_DEADLOCK = 1213;

  /** ER_LOCK_WAIT_TIMEOUT (MySQL, MariaDB). */
  static final int MYSQL_LOCK_WAIT_TIMEOUT = 1205;

  private SqlErrors() {}

  /**
   * What transient conflict {@code e} reports, one that a retry of the whole unit of work resolves
   * (the database has rolled it back): {@code "deadlock"}, {@code "serialization failure"}, {@code
   * "lock wait timeout"}; {@code null} for any other failure.
   */
  static String transientConflict(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql) {
        for (SQLException s = sql; s != null; s = s.getNextException()) {
          String state = s.getSQLState();
          if (s.getErrorCode() == MYSQL_DEADLOCK || "40P01".equals(state)) {
            return "deadlock";
          }
          if (s.getErrorCode() == MYSQL_LOCK_WAIT_TIMEOUT) {
            return "lock wait timeout";
          }
          if ("40001".equals(state)) {
            return "serialization failure";
          }
          if (s.getNextException() == s) {
            break;
          }
        }
      }
    }
    return null;
  }

  /** The SQL error's text, SQLState and vendor code; else the exception's message. */
  static String describe(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql) {
        return sql.getMessage()
            + " (SQLState "
            + sql.getSQLState()
            + (sql.getErrorCode() != 0 ? ", error " + sql.getErrorCode() : "")
            + ")";
      }
    }
    return String.valueOf(e.getMessage());
  }
}
