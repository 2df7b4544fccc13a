package dev.outbox.spring.boot;

import dev.outbox.Message;
import dev.outbox.Outbox;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Writes messages to the outbox inside the caller's Spring-managed transaction, whatever {@code
 * PlatformTransactionManager} began it ({@code @Transactional}, a {@code TransactionTemplate};
 * JDBC's {@code DataSourceTransactionManager}/{@code JdbcTransactionManager} or JPA's {@code
 * JpaTransactionManager} with the same {@code DataSource}): the entries commit or roll back with
 * the caller's data.
 *
 * <pre>{@code
 * @Transactional
 * public void placeOrder(Order order) {
 *   orders.save(order);
 *   outbox.publish(Message.builder().namespace("orders").key(order.id()).payload(json).build());
 * }
 * }</pre>
 *
 * <p>After the commit the local processor is woken at once (unless {@code outbox.wake-on-commit} is
 * false), so the messages leave within milliseconds; a rollback wakes nothing and leaves nothing
 * behind.
 *
 * <p>With no transaction active, {@link #publish} throws {@link IllegalStateException} in {@link
 * OutboxProperties.TransactionMode#MANDATORY} mode (the default) and opens a transaction of its own
 * around the write in {@link OutboxProperties.TransactionMode#REQUIRED} mode.
 *
 * <p>Thread-safe.
 */
public class TransactionalOutbox {

  private final Outbox<Connection> outbox;
  private final DataSource dataSource;
  private final OutboxProperties.TransactionMode mode;
  private final TransactionTemplate template; // null unless mode is REQUIRED
  private final boolean wakeOnCommit;

  /**
   * Creates a transactional outbox.
   *
   * @param outbox the outbox, over a storage whose transaction handle is a JDBC connection
   * @param dataSource the data source whose transaction-bound connection the entries are written
   *     with; the one the application's transaction manager manages
   * @param mode what to do with no transaction active
   * @param transactionManager the manager for {@code REQUIRED} mode; may be null in {@code
   *     MANDATORY} mode
   * @param wakeOnCommit whether a commit wakes the processor
   * @throws IllegalArgumentException when {@code REQUIRED} mode has no transaction manager
   */
  public TransactionalOutbox(
      Outbox<Connection> outbox,
      DataSource dataSource,
      OutboxProperties.TransactionMode mode,
      PlatformTransactionManager transactionManager,
      boolean wakeOnCommit) {
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.mode = Objects.requireNonNull(mode, "mode");
    this.wakeOnCommit = wakeOnCommit;
    if (mode == OutboxProperties.TransactionMode.REQUIRED) {
      if (transactionManager == null) {
        throw new IllegalArgumentException(
            "outbox.transaction-mode is REQUIRED but the application has no single"
                + " PlatformTransactionManager bean to open transactions with");
      }
      this.template = new TransactionTemplate(transactionManager);
    } else {
      this.template = null;
    }
  }

  /**
   * Writes messages in the caller's transaction; they are published after it commits.
   *
   * @throws IllegalStateException when no Spring-managed transaction is active (in MANDATORY mode),
   *     when it is read-only, or when it holds no connection of the outbox's {@code DataSource}
   * @throws IllegalArgumentException when a message is null, too large or undeliverable (see {@link
   *     Outbox#publish(Object, Message...)}); nothing is written then
   */
  public void publish(Message... messages) {
    Objects.requireNonNull(messages, "messages must not be null");
    publish(Arrays.asList(messages));
  }

  /** Writes messages in the caller's transaction; see {@link #publish(Message...)}. */
  public void publish(List<Message> messages) {
    Objects.requireNonNull(messages, "messages must not be null");
    if (TransactionSynchronizationManager.isActualTransactionActive()) {
      write(messages);
      return;
    }
    if (template == null) {
      throw new IllegalStateException(
          "outbox.publish needs an active Spring-managed transaction, and none is active: call it"
              + " from a @Transactional method (or inside a TransactionTemplate) so the messages"
              + " commit or roll back with your data; or set outbox.transaction-mode=REQUIRED to"
              + " have it open a transaction of its own");
    }
    template.executeWithoutResult(status -> write(messages));
  }

  private void write(List<Message> messages) {
    if (TransactionSynchronizationManager.isCurrentTransactionReadOnly()) {
      throw new IllegalStateException(
          "outbox.publish was called in a read-only transaction ("
              + describeTransaction()
              + "); the messages could not be written. Publish from a read-write transaction.");
    }
    Connection c = DataSourceUtils.getConnection(dataSource);
    try {
      boolean autoCommit;
      try {
        autoCommit = c.getAutoCommit();
      } catch (SQLException e) {
        throw new IllegalStateException(
            "cannot read the auto-commit mode of the transaction's connection", e);
      }
      if (autoCommit) {
        throw new IllegalStateException(
            "outbox.publish runs in a Spring transaction ("
                + describeTransaction()
                + "), but the connection of the outbox's DataSource is not part of it (it is in"
                + " auto-commit mode): the transaction manager manages another resource. Use a"
                + " DataSourceTransactionManager/JdbcTransactionManager or a JpaTransactionManager"
                + " over the same DataSource as the outbox, so the messages commit with your data.");
      }
      outbox.publish(c, messages);
    } finally {
      DataSourceUtils.releaseConnection(c, dataSource);
    }
    if (wakeOnCommit && !messages.isEmpty()) {
      wakeAfterCommit();
    }
  }

  private static String describeTransaction() {
    String name = TransactionSynchronizationManager.getCurrentTransactionName();
    return name == null ? "unnamed" : name;
  }

  /** Registers, once per transaction, a synchronization that wakes the processor on commit. */
  private void wakeAfterCommit() {
    if (!TransactionSynchronizationManager.isSynchronizationActive()) {
      return; // no synchronization: the processor finds the entries at its next interval
    }
    for (TransactionSynchronization s : TransactionSynchronizationManager.getSynchronizations()) {
      if (s instanceof WakeOnCommit w && w.owner == this) {
        return;
      }
    }
    TransactionSynchronizationManager.registerSynchronization(new WakeOnCommit(this));
  }

  /** Asks the local processor to pump now (it does nothing where the processor is off). */
  public void wakeProcessor() {
    outbox.wakeProcessor();
  }

  /** The outbox underneath, for its statistics, dead letters and health. */
  public Outbox<Connection> outbox() {
    return outbox;
  }

  /** The mode with no transaction active. */
  public OutboxProperties.TransactionMode transactionMode() {
    return mode;
  }

  private static final class WakeOnCommit implements TransactionSynchronization {
    private final TransactionalOutbox owner;

    WakeOnCommit(TransactionalOutbox owner) {
      this.owner = owner;
    }

    @Override
    public void afterCommit() {
      owner.outbox.wakeProcessor();
    }
  }
}
