package dev.outbox.postgres;

import dev.outbox.Outbox;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes outboxes the moment a transaction that published to them commits, in any process: it {@code
 * LISTEN}s on the channel {@link PostgresStorage} notifies and calls {@link Outbox#wakeProcessor()}
 * on every registered outbox for each notification. Without it, an outbox in another process
 * publishes at its next {@code processInterval}.
 *
 * <pre>{@code
 * PostgresWakeupListener wakeup =
 *     PostgresWakeupListener.builder("jdbc:postgresql://db/app?user=app")
 *         .channelOf(storage)
 *         .build()
 *         .register(outbox)
 *         .start();
 * // ... on shutdown
 * wakeup.close();
 * }</pre>
 *
 * <p>It owns one connection, kept out of any pool's rotation for as long as it runs, and waits on
 * it on its own daemon thread. When the connection drops it logs a warning and reconnects with
 * bounded exponential backoff; the outboxes keep polling at their interval meanwhile, and once it
 * listens again it wakes them all, for what was committed in the gap. Its session's {@code
 * application_name} is set once it listens, so it can be found in {@code pg_stat_activity}.
 *
 * <p>Thread-safe. {@link #close()} is idempotent and prompt: it aborts the connection rather than
 * waiting out a poll.
 */
public final class PostgresWakeupListener implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PostgresWakeupListener.class);

  private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(5);

  private final ConnectionSource connections;
  private final String channel;
  private final String applicationName;
  private final Duration backoffInitial;
  private final Duration backoffMax;
  private final Duration checkInterval;
  private final ThreadFactory threadFactory;

  private final Set<Outbox<?>> outboxes = new CopyOnWriteArraySet<>();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch closing = new CountDownLatch(1);
  private volatile Connection connection;
  private volatile boolean listening;
  private volatile Thread thread;
  private long delayMillis; // the next reconnection wait; used by the listening thread only

  private PostgresWakeupListener(Builder b, ThreadFactory threadFactory) {
    this.connections = b.connections;
    this.channel = b.channel;
    this.applicationName = b.applicationName;
    this.backoffInitial = b.backoffInitial;
    this.backoffMax = b.backoffMax;
    this.checkInterval = b.checkInterval;
    this.threadFactory = threadFactory;
    this.delayMillis = backoffInitial.toMillis();
  }

  /**
   * Starts building a listener that takes its connection from a data source. A pooled data source
   * works, but the connection stays checked out for the listener's life; a dedicated, unpooled one
   * ({@link #builder(String)}) is usually the better choice.
   */
  public static Builder builder(DataSource dataSource) {
    Objects.requireNonNull(dataSource, "dataSource must not be null");
    return new Builder(dataSource::getConnection, dataSource.toString());
  }

  /**
   * Starts building a listener that opens its own connection with the PostgreSQL JDBC driver, e.g.
   * {@code jdbc:postgresql://db:5432/app?user=app&password=...}. Avoid a {@code socketTimeout}
   * shorter than the check interval.
   */
  public static Builder builder(String jdbcUrl) {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl must not be null");
    if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException(
          "jdbcUrl must start with jdbc:postgresql:, was " + redact(jdbcUrl));
    }
    return new Builder(() -> DriverManager.getConnection(jdbcUrl), redact(jdbcUrl));
  }

  /** The channel listened on. */
  public String channel() {
    return channel;
  }

  /**
   * Adds an outbox to wake on every notification; several may be registered. Registering one twice
   * has no further effect.
   *
   * @return this listener
   */
  public PostgresWakeupListener register(Outbox<?> outbox) {
    outboxes.add(Objects.requireNonNull(outbox, "outbox must not be null"));
    return this;
  }

  /** Stops waking an outbox; returns whether it was registered. */
  public boolean unregister(Outbox<?> outbox) {
    return outboxes.remove(outbox);
  }

  /**
   * Connects and starts listening on a new thread from the thread factory. Returns at once; the
   * first connection is made on that thread, with the same backoff as reconnections. Calling it
   * again does nothing.
   *
   * @return this listener
   * @throws IllegalStateException when the listener is closed
   */
  public PostgresWakeupListener start() {
    if (closed.get()) {
      throw new IllegalStateException("the wake-up listener on channel " + channel + " is closed");
    }
    if (started.compareAndSet(false, true)) {
      Thread t = threadFactory.newThread(this::run);
      thread = t;
      t.start();
    }
    return this;
  }

  /** Whether the listener holds a connection that is listening on the channel right now. */
  public boolean isListening() {
    return listening;
  }

  /**
   * Stops listening and closes the connection, aborting a wait in progress. Idempotent; returns
   * once the listener's thread has ended (or after 5 seconds, with a warning).
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    closing.countDown();
    abort(connection);
    Thread t = thread;
    if (t != null && t != Thread.currentThread()) {
      t.interrupt();
      try {
        t.join(JOIN_TIMEOUT.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (t.isAlive()) {
        log.warn("wake-up listener on channel {} did not stop within {}", channel, JOIN_TIMEOUT);
      }
    }
    log.info("wake-up listener on channel {} closed", channel);
  }

  @Override
  public String toString() {
    return "PostgresWakeupListener{channel=" + channel + ", source=" + connections + "}";
  }

  // ---------------------------------------------------------------- the listening thread

  private void run() {
    while (!closed.get()) {
      try {
        listen(); // returns normally only once closed
      } catch (SQLException | RuntimeException e) {
        listening = false;
        if (closed.get() || !backOff(e)) {
          break;
        }
      }
    }
    listening = false;
  }

  /** Logs a lost connection and waits before the next attempt; false when closed meanwhile. */
  private boolean backOff(Exception e) {
    log.warn(
        "wake-up listener on channel {} has no working PostgreSQL connection ({}); connecting"
            + " again in {} ms, outboxes poll at their interval meanwhile",
        channel,
        e.toString(),
        delayMillis);
    log.debug("wake-up listener failure", e);
    try {
      if (closing.await(delayMillis, TimeUnit.MILLISECONDS)) {
        return false;
      }
    } catch (InterruptedException ie) {
      if (!closed.get()) {
        Thread.currentThread().interrupt();
        log.warn("wake-up listener on channel {} was interrupted; it stops", channel);
      }
      return false;
    }
    delayMillis = Math.min(delayMillis * 2, backoffMax.toMillis());
    return true;
  }

  /** One connection's life: connect, listen, wake on notifications until closed or broken. */
  private void listen() throws SQLException {
    Connection c = connections.get();
    connection = c;
    try {
      if (closed.get()) {
        return;
      }
      c.setAutoCommit(true); // notifications arrive only between transactions
      PGConnection pg = c.unwrap(PGConnection.class);
      try (Statement st = c.createStatement()) {
        st.execute("LISTEN \"" + channel.replace("\"", "\"\"") + "\"");
      }
      // Set after LISTEN on purpose: a session with this name is known to be listening.
      try (PreparedStatement ps =
          c.prepareStatement("SELECT set_config('application_name', ?, false)")) {
        ps.setString(1, applicationName);
        ps.execute();
      }
      listening = true;
      delayMillis = backoffInitial.toMillis();
      log.info("wake-up listener listening on PostgreSQL channel {}", channel);
      wakeAll(); // whatever was committed while nobody listened
      int timeout = Math.toIntExact(checkInterval.toMillis());
      while (!closed.get()) {
        PGNotification[] notifications = pg.getNotifications(timeout);
        if (notifications != null && notifications.length > 0) {
          log.debug("{} notifications on channel {}", notifications.length, channel);
          wakeAll();
        } else if (!closed.get() && !c.isValid(Math.max(1, timeout / 1000))) {
          throw new SQLException("the connection failed its validity check");
        }
      }
    } finally {
      listening = false;
      connection = null;
      closeQuietly(c);
    }
  }

  private void wakeAll() {
    for (Outbox<?> outbox : outboxes) {
      try {
        outbox.wakeProcessor();
      } catch (RuntimeException e) {
        log.warn("waking outbox {} failed; it will poll instead", outbox.processorId(), e);
      }
    }
  }

  private void abort(Connection c) {
    if (c == null) {
      return;
    }
    try {
      c.abort(Runnable::run); // closes the socket under a blocked getNotifications
    } catch (SQLException | RuntimeException e) {
      log.debug("aborting the wake-up listener's connection failed", e);
    }
  }

  private void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException | RuntimeException e) {
      // The connection is already broken or aborted; nothing is lost by not closing it cleanly.
      log.debug("closing the wake-up listener's connection failed", e);
    }
  }

  private static String redact(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
  }

  /** Where connections come from. */
  @FunctionalInterface
  private interface ConnectionSource {
    Connection get() throws SQLException;
  }

  // ---------------------------------------------------------------- builder

  /**
   * Builds a {@link PostgresWakeupListener}.
   *
   * <table>
   *   <caption>Settings</caption>
   *   <tr><th>setting</th><th>default</th><th>allowed</th></tr>
   *   <tr><td>channel</td><td>{@code outbox} (the default table name)</td><td>1 to 63 bytes of
   *   UTF-8, no NUL</td></tr>
   *   <tr><td>applicationName</td><td>{@code outbox-wakeup}</td><td>not blank</td></tr>
   *   <tr><td>reconnectBackoff</td><td>100 ms doubling to 30 s</td><td>1 ms to 1 hour, initial
   *   not above max</td></tr>
   *   <tr><td>checkInterval</td><td>10 s</td><td>1 s to 1 hour</td></tr>
   *   <tr><td>threadFactory</td><td>daemon thread {@code outbox-wakeup-}channel</td><td></td></tr>
   * </table>
   */
  public static final class Builder {
    private final ConnectionSource connections;
    private final String sourceDescription;
    private String channel = PostgresStorage.DEFAULT_TABLE_NAME;
    private String applicationName = "outbox-wakeup";
    private Duration backoffInitial = Duration.ofMillis(100);
    private Duration backoffMax = Duration.ofSeconds(30);
    private Duration checkInterval = Duration.ofSeconds(10);
    private ThreadFactory threadFactory;

    private Builder(ConnectionSource connections, String sourceDescription) {
      this.connections =
          new ConnectionSource() {
            @Override
            public Connection get() throws SQLException {
              return connections.get();
            }

            @Override
            public String toString() {
              return sourceDescription;
            }
          };
      this.sourceDescription = sourceDescription;
    }

    /**
     * The channel to listen on; it must be the one the storage notifies. Default {@code outbox}.
     */
    public Builder channel(String channel) {
      this.channel = channel;
      return this;
    }

    /**
     * Listens on the channel {@code storage} notifies.
     *
     * @throws IllegalArgumentException when the storage was built with notifications off
     */
    public Builder channelOf(PostgresStorage storage) {
      this.channel =
          storage
              .notifyChannel()
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          storage + " does not notify (its notifyMode is NONE)"));
      return this;
    }

    /** The session's {@code application_name}, to find it in {@code pg_stat_activity}. */
    public Builder applicationName(String applicationName) {
      this.applicationName = applicationName;
      return this;
    }

    /** The wait before reconnecting, doubling after each failed attempt up to {@code max}. */
    public Builder reconnectBackoff(Duration initial, Duration max) {
      this.backoffInitial = initial;
      this.backoffMax = max;
      return this;
    }

    /**
     * How long to wait for a notification before checking that the connection still works (a
     * dropped network path may otherwise go unnoticed).
     */
    public Builder checkInterval(Duration checkInterval) {
      this.checkInterval = checkInterval;
      return this;
    }

    /** Makes the listening thread; the default makes a daemon thread. */
    public Builder threadFactory(ThreadFactory threadFactory) {
      this.threadFactory = threadFactory;
      return this;
    }

    /**
     * Builds the listener; it connects only on {@link PostgresWakeupListener#start()}.
     *
     * @throws IllegalArgumentException naming every bad setting
     */
    public PostgresWakeupListener build() {
      List<String> errors = new ArrayList<>();
      if (channel == null) {
        errors.add("channel must not be null");
      } else {
        String problem = PostgresStorage.Builder.channelProblem(channel);
        if (problem != null) {
          errors.add("channel \"" + channel + "\" " + problem);
        }
      }
      if (applicationName == null || applicationName.isBlank()) {
        errors.add("applicationName must not be blank");
      }
      checkRange(errors, "reconnectBackoff initial", backoffInitial, Duration.ofMillis(1));
      checkRange(errors, "reconnectBackoff max", backoffMax, Duration.ofMillis(1));
      if (backoffInitial != null
          && backoffMax != null
          && backoffInitial.compareTo(backoffMax) > 0) {
        errors.add(
            "reconnectBackoff initial " + backoffInitial + " is above its max " + backoffMax);
      }
      checkRange(errors, "checkInterval", checkInterval, Duration.ofSeconds(1));
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(
            "invalid PostgresWakeupListener settings: " + String.join("; ", errors));
      }
      ThreadFactory factory = threadFactory;
      if (factory == null) {
        String name = "outbox-wakeup-" + channel;
        factory =
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              return t;
            };
      }
      log.debug("wake-up listener on channel {} via {}", channel, sourceDescription);
      return new PostgresWakeupListener(this, factory);
    }

    private static void checkRange(List<String> errors, String name, Duration d, Duration min) {
      Duration max = Duration.ofHours(1);
      if (d == null) {
        errors.add(name + " must not be null");
      } else if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
        errors.add(name + " is " + d + "; it must be between " + min + " and " + max);
      }
    }
  }
}
