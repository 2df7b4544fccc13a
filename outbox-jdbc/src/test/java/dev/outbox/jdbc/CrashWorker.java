package dev.outbox.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.ClaimedEntry;
import dev.outbox.Outbox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;

/**
 * One processor process of {@link CrashHarness}: an outbox over the shared table whose publisher
 * records every delivery in a table of its own. It runs until it is killed. Arguments: database
 * kind (POSTGRES or MYSQL), JDBC URL, table, processor id, and optionally the lease mode (ROW or
 * LOCK; default ROW).
 */
public final class CrashWorker {

  private CrashWorker() {}

  public static void main(String[] args) throws Exception {
    TestDatabase.Kind kind = TestDatabase.Kind.valueOf(args[0]);
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[1]);
    config.setMaximumPoolSize(4);
    HikariDataSource pool = new HikariDataSource(config);
    String table = args[2];
    String processorId = args[3];
    LeaseMode leaseMode = args.length > 4 ? LeaseMode.valueOf(args[4]) : LeaseMode.ROW;
    JdbcStorage storage =
        JdbcStorage.builder(pool)
            .dialect(kind.dialect())
            .tableName(table)
            .leaseMode(leaseMode)
            .build();
    String record = "INSERT INTO " + table + "_deliveries (entry_id, processor) VALUES (?, ?)";
    Outbox<Connection> outbox =
        Outbox.builder(
                storage,
                entries -> {
                  try (Connection c = pool.getConnection();
                      PreparedStatement ps = c.prepareStatement(record)) {
                    for (ClaimedEntry e : entries) {
                      ps.setLong(1, e.id());
                      ps.setString(2, processorId);
                      ps.addBatch();
                    }
                    ps.executeBatch();
                  } catch (java.sql.SQLException e) {
                    throw new IllegalStateException("could not record deliveries", e);
                  }
                })
            .processorId(processorId)
            .batchSize(200)
            .claimDuration(Duration.ofSeconds(2))
            .processInterval(Duration.ofMillis(50))
            .build();
    outbox.start();
    System.out.println("ready " + processorId);
    System.out.flush();
    Thread.currentThread().join(); // until killed
  }
}
