package dev.outbox.jdbc;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A {@link DataSource} over something that lends connections and wants them back its own way, such
 * as a Jdbi {@code Handle}: {@code close()} on a connection it hands out gives the lease back
 * (closing the handle) instead of closing the connection underneath. Lets a {@link JdbcStorage} run
 * on a library's connection management without knowing the library.
 */
public final class LeasedDataSource implements DataSource {

  /** One lent connection. */
  public interface Lease {
    /** The connection. */
    Connection connection();

    /** Gives the connection back. */
    void release() throws Exception;

    /** A lease of {@code connection} that {@code release} gives back. */
    static Lease of(Connection connection, AutoCloseable release) {
      Objects.requireNonNull(connection, "connection");
      Objects.requireNonNull(release, "release");
      return new Lease() {
        @Override
        public Connection connection() {
          return connection;
        }

        @Override
        public void release() throws Exception {
          release.close();
        }
      };
    }
  }

  /** Lends connections. */
  @FunctionalInterface
  public interface Lender {
    /** Lends one connection. */
    Lease lend() throws SQLException;
  }

  private final Lender lender;

  private LeasedDataSource(Lender lender) {
    this.lender = Objects.requireNonNull(lender, "lender");
  }

  /** A data source whose connections come from {@code lender} and go back to it on close. */
  public static DataSource of(Lender lender) {
    return new LeasedDataSource(lender);
  }

  @Override
  public Connection getConnection() throws SQLException {
    Lease lease = lender.lend();
    Connection c = lease.connection();
    AtomicBoolean closed = new AtomicBoolean();
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              switch (method.getName()) {
                case "close" -> {
                  if (closed.compareAndSet(false, true)) {
                    try {
                      lease.release();
                    } catch (SQLException | RuntimeException e) {
                      throw e;
                    } catch (Exception e) {
                      throw new SQLException("could not give the connection back: " + e, e);
                    }
                  }
                  return null;
                }
                case "isClosed" -> {
                  return closed.get() || c.isClosed();
                }
                case "equals" -> {
                  return proxy == args[0];
                }
                case "hashCode" -> {
                  return System.identityHashCode(proxy);
                }
                case "toString" -> {
                  return "leased " + c;
                }
                default -> {
                  if (closed.get()) {
                    throw new SQLException("connection was given back (closed)", "08003");
                  }
                  try {
                    return method.invoke(c, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                }
              }
            });
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    throw new SQLFeatureNotSupportedException(
        "a LeasedDataSource lends the connections of its lender, with its credentials");
  }

  @Override
  public PrintWriter getLogWriter() {
    return null;
  }

  @Override
  public void setLogWriter(PrintWriter out) {}

  @Override
  public void setLoginTimeout(int seconds) {}

  @Override
  public int getLoginTimeout() {
    return 0;
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException("no java.util.logging here");
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    if (iface.isInstance(this)) {
      return iface.cast(this);
    }
    throw new SQLException("not a wrapper of " + iface.getName());
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) {
    return iface.isInstance(this);
  }
}
