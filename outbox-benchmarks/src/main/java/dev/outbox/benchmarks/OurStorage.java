package dev.outbox.benchmarks;

import dev.outbox.Ordering;
import dev.outbox.Outbox;
import dev.outbox.ProcessorStorage;
import dev.outbox.mysql.MySqlStorage;
import dev.outbox.postgres.PostgresStorage;
import dev.outbox.postgres.PostgresWakeupListener;
import java.time.Duration;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/** Our storage adapters, built the way a user builds them, on the benchmark's table. */
abstract class OurStorage {

  final Jdbi jdbi;

  OurStorage(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  static OurStorage of(Options o, Jdbi jdbi) {
    return o.db() == Options.Db.POSTGRES ? new Postgres(jdbi, o.jdbcUrl()) : new MySql(jdbi);
  }

  /** Creates the adapter's tables with its own {@code createSchema()}. */
  abstract void createSchema();

  /** How a storage signals LISTEN/NOTIFY on publish (PostgreSQL only; MySQL ignores it). */
  enum Notify {
    /** No signal. */
    NONE,
    /** The adapter's default: coalesced NOTIFYs on its own connection, after the publish. */
    COALESCED,
    /** pg_notify in the publishing transaction (the default before issue 17). */
    IN_TRANSACTION
  }

  /** A storage with the adapter's defaults, except for how it notifies. */
  ProcessorStorage<Handle> storage(Notify notify) {
    return storage(notify, Ordering.NONE);
  }

  /** A storage with the adapter's defaults, except for how it notifies and keeps keys in order. */
  abstract ProcessorStorage<Handle> storage(Notify notify, Ordering ordering);

  /** A storage; {@code notify} asks for the default (coalesced) notification, else none. */
  ProcessorStorage<Handle> storage(boolean notify) {
    return storage(notify ? Notify.COALESCED : Notify.NONE);
  }

  /** Whether the database can wake processors in other sessions (LISTEN/NOTIFY). */
  abstract boolean supportsNotify();

  /**
   * Starts the adapter's wake-up listener for this outbox and waits until it listens.
   *
   * @return what stops it
   */
  @SafeVarargs
  final AutoCloseable listen(ProcessorStorage<Handle> storage, Outbox<Handle>... outboxes)
      throws InterruptedException {
    return listen(storage, java.util.List.of(outboxes));
  }

  /** Starts the wake-up listener for these outboxes and waits until it listens. */
  AutoCloseable listen(ProcessorStorage<Handle> storage, java.util.List<Outbox<Handle>> outboxes)
      throws InterruptedException {
    throw new UnsupportedOperationException("no wake-up listener on this database");
  }

  static final class Postgres extends OurStorage {
    private final String url;

    Postgres(Jdbi jdbi, String url) {
      super(jdbi);
      this.url = url;
    }

    @Override
    void createSchema() {
      ((PostgresStorage) storage(false)).createSchema();
    }

    @Override
    ProcessorStorage<Handle> storage(Notify notify, Ordering ordering) {
      return PostgresStorage.builder(jdbi)
          .tableName(SqlDatabase.TABLE)
          .ordering(ordering)
          .notifyMode(
              switch (notify) {
                case NONE -> PostgresStorage.NotifyMode.NONE;
                case COALESCED -> PostgresStorage.NotifyMode.COALESCED;
                case IN_TRANSACTION -> PostgresStorage.NotifyMode.IN_TRANSACTION;
              })
          .build();
    }

    @Override
    boolean supportsNotify() {
      return true;
    }

    @Override
    AutoCloseable listen(ProcessorStorage<Handle> storage, java.util.List<Outbox<Handle>> outboxes)
        throws InterruptedException {
      PostgresWakeupListener listener =
          PostgresWakeupListener.builder(url).channelOf((PostgresStorage) storage).build();
      outboxes.forEach(listener::register);
      listener.start();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!listener.isListening()) {
        if (System.nanoTime() > deadline) {
          listener.close();
          throw new IllegalStateException("the wake-up listener did not connect within 10 s");
        }
        Thread.sleep(5);
      }
      return listener;
    }
  }

  static final class MySql extends OurStorage {
    MySql(Jdbi jdbi) {
      super(jdbi);
    }

    @Override
    void createSchema() {
      ((MySqlStorage) storage(false)).createSchema();
    }

    @Override
    ProcessorStorage<Handle> storage(Notify notify, Ordering ordering) {
      return MySqlStorage.builder(jdbi).tableName(SqlDatabase.TABLE).ordering(ordering).build();
    }

    @Override
    boolean supportsNotify() {
      return false;
    }
  }
}
