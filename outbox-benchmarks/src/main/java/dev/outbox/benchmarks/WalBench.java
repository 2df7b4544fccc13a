package dev.outbox.benchmarks;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.ProcessorStorage;
import dev.outbox.PumpResult;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Write amplification: WAL bytes per message on PostgreSQL, from {@code pg_current_wal_lsn()}
 * before and after (on MySQL/MariaDB the InnoDB redo log's, from the {@code Innodb_lsn_current}
 * status variable; the binary log, when enabled, comes on top), of writing {@code n} messages one
 * per transaction and then draining them, for the outbox (Outbox.publish, then one Outbox pumping
 * with its defaults) and for the plain-SQL floor (a single-row INSERT per transaction, then {@code
 * DELETE ... SKIP LOCKED ... RETURNING} batches). The LSN is the cluster's: other sessions' writes
 * in the same window count too, so the figures are an upper bound on a shared server, and the
 * background WAL of an idle window of the same length is printed beside them.
 */
final class WalBench {

  /** Bytes per message: {publish, drain, background over the publish+drain window}. */
  record Wal(double publish, double drain, double background) {}

  private final OurStorage ours;
  private final SqlDatabase db;
  private final Options o;
  private final byte[] payload;

  WalBench(OurStorage ours, SqlDatabase db, Options o, byte[] payload) {
    this.ours = ours;
    this.db = db;
    this.o = o;
    this.payload = payload;
  }

  private boolean postgres() {
    return o.db() == Options.Db.POSTGRES;
  }

  /** What is measured: {@code WAL} or {@code redo}. */
  String log() {
    return postgres() ? "WAL" : "InnoDB redo";
  }

  /** The server's current WAL (PostgreSQL) or redo log (InnoDB) position, in bytes. */
  long lsn() throws SQLException {
    try (Connection c = db.ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                postgres()
                    ? "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"
                    : "SHOW GLOBAL STATUS LIKE 'Innodb_lsn_current'")) {
      rs.next();
      return rs.getLong(postgres() ? 1 : 2);
    }
  }

  private void checkpoint() throws SQLException {
    if (postgres()) {
      db.execute("CHECKPOINT"); // every run starts with the same full-page-image debt
    }
  }

  /**
   * WAL per message of a {@code JdbcStorage} (either lease mode) over the benchmark's table:
   * Outbox.publish one per transaction on a pooled connection, then one Outbox draining.
   */
  Wal jdbc(int n, ProcessorStorage<Connection> storage) throws Exception {
    return measure(
        n,
        storage,
        (outbox, m) -> {
          try (Connection c = db.ds.getConnection()) {
            c.setAutoCommit(false);
            outbox.publish(c, m);
            c.commit();
            c.setAutoCommit(true);
          }
        },
        "wal: jdbc drain");
  }

  /** WAL per message of the outbox: publish one per transaction, then drain. */
  Wal ours(int n) throws Exception {
    return measure(
        n,
        ours.storage(OurStorage.Notify.COALESCED),
        (outbox, m) -> ours.jdbi.useTransaction(h -> outbox.publish(h, m)),
        "wal: our drain");
  }

  /** Publishes one message through an outbox in a transaction of its own. */
  @FunctionalInterface
  private interface PublishOne<T> {
    void publish(Outbox<T> outbox, Message message) throws Exception;
  }

  /** Publishes {@code n} messages one per transaction, then drains them with one outbox. */
  private <T> Wal measure(int n, ProcessorStorage<T> storage, PublishOne<T> publishOne, String what)
      throws Exception {
    db.reset();
    checkpoint();
    try (Outbox<T> outbox = Outbox.builder(storage, entries -> {}).batchSize(o.batch()).build()) {
      long t0 = System.nanoTime();
      long a = lsn();
      for (int i = 0; i < n; i++) {
        publishOne.publish(
            outbox,
            Message.builder()
                .namespace(SqlDatabase.NAMESPACE)
                .key(SqlDatabase.key(i))
                .payload(payload)
                .build());
      }
      long b = lsn();
      long published = 0;
      PumpResult pass;
      do {
        pass = outbox.pumpOutbox();
        published += pass.published();
      } while (pass.claimed() > 0);
      long c = lsn();
      long took = System.nanoTime() - t0;
      Checks.drained(db, n, published, what);
      return new Wal((double) (b - a) / n, (double) (c - b) / n, background(took) / n);
    }
  }

  /** WAL per message of the plain-SQL floor: single-row INSERTs, then DELETE..RETURNING. */
  Wal plain(int n) throws Exception {
    db.reset();
    checkpoint();
    long t0 = System.nanoTime();
    long a = lsn();
    for (int i = 0; i < n; i++) {
      db.insertOne(i, payload);
    }
    long b = lsn();
    long deleted;
    try (Connection conn = db.ds.getConnection()) {
      db.prepareLoopConnection(conn);
      Timings t = new Timings();
      deleted = Parallel.untilEmpty(() -> db.deleteOnce(conn, o.batch(), t));
    }
    long c = lsn();
    long took = System.nanoTime() - t0;
    Checks.drained(db, n, deleted, "wal: plain delete drain");
    return new Wal((double) (b - a) / n, (double) (c - b) / n, background(took) / n);
  }

  /**
   * WAL the rest of the cluster wrote in an idle window as long as the measurement (capped at 5 s,
   * scaled up): what other sessions would add to a figure on a shared server.
   */
  private double background(long nanos) throws Exception {
    long window = Math.min(nanos, 5_000_000_000L);
    long a = lsn();
    Thread.sleep(window / 1_000_000);
    long b = lsn();
    return (double) (b - a) * nanos / window;
  }
}
