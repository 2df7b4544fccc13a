package dev.outbox.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A processor process for {@link LockModeTest}: claims everything with a one-hour deadline, says
 * "claimed n", and then hangs as if publishing, until it is killed. Arguments: database kind, JDBC
 * URL, table, lease mode.
 */
public final class LockHolder {

  private LockHolder() {}

  public static void main(String[] args) throws Exception {
    TestDatabase.Kind kind = TestDatabase.Kind.valueOf(args[0]);
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[1]);
    config.setMaximumPoolSize(2);
    HikariDataSource pool = new HikariDataSource(config);
    JdbcStorage storage =
        JdbcStorage.builder(pool)
            .dialect(kind.dialect())
            .tableName(args[2])
            .leaseMode(LeaseMode.valueOf(args[3]))
            .lockHoldLimit(Duration.ofMinutes(10))
            .build();
    Instant now = Instant.now();
    List<ClaimedEntry> claimed =
        storage.claim(
            new ClaimRequest("holder", UUID.randomUUID(), now, now.plus(Duration.ofHours(1)), 100));
    System.out.println("claimed " + claimed.size());
    System.out.flush();
    Thread.currentThread().join(); // "publishing" until killed
  }
}
