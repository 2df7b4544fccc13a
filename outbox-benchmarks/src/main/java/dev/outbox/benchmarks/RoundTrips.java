package dev.outbox.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.mysql.MySqlStorage;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/**
 * Round trips per batch of our MySQL/MariaDB storage: one claim of {@code batch} entries and their
 * delete, the work of one batch of a drain. Counted by the server, not guessed: the session status
 * counter {@code Questions} (every statement a client sends) of the one connection of a pool of
 * size 1, read before and after {@value #BATCHES} batches. Measured on a pool with auto-commit on
 * (the default) and off (Spring-style pools).
 */
final class RoundTrips {

  /**
   * The same loop against {@code MySqlStorage} before the JDBC engine (main at commit 4a85055,
   * MariaDB 10.11, batch 100, auto-commit on): Questions per batch. It cannot run here, since that
   * code predates the storage SPI this build has; see the README for how it was measured.
   */
  static final double BEFORE = 11.0;

  static final int BATCHES = 50;

  private final SqlDatabase db;
  private final String url;
  private final byte[] payload;

  RoundTrips(SqlDatabase db, String url, byte[] payload) {
    this.db = db;
    this.url = url;
    this.payload = payload;
  }

  /** Questions per batch (claim + delete of {@code batch} entries). */
  double perBatch(boolean autoCommit, int batch) throws SQLException {
    db.reset();
    db.loadBacklog(BATCHES * batch, payload);
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(1);
    config.setAutoCommit(autoCommit);
    config.setPoolName("round-trips");
    try (HikariDataSource one = new HikariDataSource(config)) {
      MySqlStorage storage =
          MySqlStorage.builder(Jdbi.create(one)).tableName(SqlDatabase.TABLE).build();
      // Reading the counter costs statements of its own (the SHOW, and a commit when auto-commit
      // is off): measured once with nothing in between, and taken off.
      long first = questions(one);
      long before = questions(one);
      long overhead = before - first;
      for (int b = 0; b < BATCHES; b++) {
        UUID token = UUID.randomUUID();
        Instant now = Instant.now();
        List<ClaimedEntry> claimed =
            storage.claim(new ClaimRequest("rt", token, now, now.plusSeconds(60), batch));
        if (claimed.size() != batch) {
          throw new IllegalStateException("claimed " + claimed.size() + " of " + batch);
        }
        storage.delete(token, claimed.stream().map(ClaimedEntry::id).toList());
      }
      long after = questions(one);
      return (after - before - overhead) / (double) BATCHES;
    }
  }

  private static long questions(HikariDataSource one) throws SQLException {
    try (Connection c = one.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW SESSION STATUS LIKE 'Questions'")) {
      rs.next();
      long q = rs.getLong(2);
      if (!c.getAutoCommit()) {
        c.commit();
      }
      return q;
    }
  }
}
