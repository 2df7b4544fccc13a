package dev.outbox.jdbc;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A {@link DataSource} over something that lends connections and wants them back its own way, such
 * as a Jdbi {@code Handle}: {@code close()} on a connection it hands out gives the lease back
 * (closing the handle) instead of closing the connection underneath. Lets a {@link JdbcStorage} run
 * on a library's connection management without knowing the library.
 */
public final class LeasedDataSource implements DataSource {

  /** Lends one connection inside something that gives it back when closed. */
  @FunctionalInterface
  public interface Lender<H extends AutoCloseable> {
    /** Lends one; closing it gives the connection back. */
    H lend() throws Exception;
  }

  private final Lender<?> lender;
  private final Function<Object, Connection> connectionOf;

  @SuppressWarnings("unchecked")
  private <H extends AutoCloseable> LeasedDataSource(
      Lender<H> lender, Function<? super H, Connection> connectionOf) {
    this.lender = Objects.requireNonNull(lender, "lender");
    Objects.requireNonNull(connectionOf, "connectionOf");
    this.connectionOf = h -> connectionOf.apply((H) h);
  }

  /**
   * A data source whose connections are those of the holders {@code lender} lends (a Jdbi {@code
   * Handle}: {@code LeasedDataSource.of(jdbi::open, Handle::getConnection)}); closing such a
   * connection closes its holder.
   */
  public static <H extends AutoCloseable> DataSource of(
      Lender<H> lender, Function<? super H, Connection> connectionOf) {
    return new LeasedDataSource(lender, connectionOf);
  }

  @Override
  public Connection getConnection() throws SQLException {
    AutoCloseable holder;
    try {
      holder = lender.lend();
    } catch (SQLException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new SQLException("could not borrow a connection: " + e, e);
    }
    Connection c = connectionOf.apply(holder);
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
                      holder.close();
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
