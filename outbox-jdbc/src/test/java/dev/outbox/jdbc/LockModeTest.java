package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.NewEntry;
import dev.outbox.Outbox;
import dev.outbox.PumpResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What {@link LeaseMode#LOCK} adds to the contract: a killed processor's entries are claimable at
 * once; a renewal or the hold limit converts the claim into a row lease and ends the transaction;
 * at most {@code maxLockedClaims} connections are held. One class per database (subclasses).
 */
abstract class LockModeTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private final TestDatabase.Kind kind;
  private final String table;

  LockModeTest(TestDatabase.Kind kind) {
    this.kind = kind;
    this.table = TestDatabase.PREFIX + "lock_mode";
  }

  private JdbcStorage storage(Consumer<JdbcStorage.Builder> settings) {
    return TestDatabase.freshStorage(
        kind, table, b -> settings.accept(b.leaseMode(LeaseMode.LOCK)));
  }

  private JdbcStorage sameTable(LeaseMode mode) {
    return JdbcStorage.builder(TestDatabase.dataSource(kind))
        .dialect(kind.dialect())
        .tableName(table)
        .leaseMode(mode)
        .build();
  }

  private void publish(JdbcStorage storage, int n) throws SQLException {
    List<NewEntry> entries = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      entries.add(
          new NewEntry(
              UUID.randomUUID(),
              Message.builder().namespace("lock").payload("m-" + i).build(),
              Instant.now()));
    }
    try (Connection c = TestDatabase.connect(kind)) {
      c.setAutoCommit(false);
      storage.publish(c, entries);
      c.commit();
    }
  }

  private static List<ClaimedEntry> claim(
      JdbcStorage s, UUID token, Instant now, Instant deadline) {
    return s.claim(new ClaimRequest("p", token, now, deadline, 100));
  }

  private static List<Long> ids(List<ClaimedEntry> entries) {
    return entries.stream().map(ClaimedEntry::id).toList();
  }

  private long leased() {
    return TestDatabase.queryLong(
        kind, "SELECT COUNT(*) FROM " + table + " WHERE claim_token IS NOT NULL");
  }

  private long leasedUntil(UUID token, Instant deadline) throws SQLException {
    try (Connection c = TestDatabase.connect(kind);
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT COUNT(*) FROM " + table + " WHERE claim_token = ? AND available_at = ?")) {
      kind.dialect().setUuid(ps, 1, token);
      kind.dialect().setInstant(ps, 2, deadline);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * Transactions open on this test's database, as the server sees them. InnoDB refreshes its
   * information_schema transaction tables at most every 100 ms: wait that out first.
   */
  private long openTransactions() throws InterruptedException {
    if (kind == TestDatabase.Kind.MYSQL) {
      Thread.sleep(250);
    }
    return TestDatabase.queryLong(
        kind,
        kind == TestDatabase.Kind.POSTGRES
            ? "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
                + " AND state LIKE 'idle in transaction%'"
            : "SELECT COUNT(*) FROM information_schema.innodb_trx t"
                + " JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id"
                + " WHERE p.db = DATABASE() AND p.id <> CONNECTION_ID()");
  }

  @Test
  void aClaimIsHeldByRowLocksAndWritesNoLease() throws Exception {
    JdbcStorage storage = storage(b -> {});
    publish(storage, 5);

    List<ClaimedEntry> held = claim(storage, UUID.randomUUID(), T0, T0.plusSeconds(30));

    assertThat(held).hasSize(5);
    assertThat(storage.openLockedClaims()).isEqualTo(1);
    assertThat(openTransactions()).as("the claim's transaction is open").isEqualTo(1);
    assertThat(leased()).as("no lease is written").isZero();
    JdbcStorage other = sameTable(LeaseMode.LOCK);
    assertThat(claim(other, UUID.randomUUID(), T0, T0.plusSeconds(30)))
        .as("another claimer skips the locked rows")
        .isEmpty();
    assertThat(other.openLockedClaims()).as("an empty claim holds nothing").isZero();
    storage.finishLockedClaims();
    assertThat(storage.openLockedClaims()).isZero();
    assertThat(claim(other, UUID.randomUUID(), T0, T0.plusSeconds(30)))
        .as("finish committed: the rows are unlocked and claimable at once")
        .hasSize(5);
    other.finishLockedClaims();
    assertThat(openTransactions()).isZero();
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void aKilledProcessorsEntriesAreClaimableAtOnce() throws Exception {
    JdbcStorage storage = storage(b -> {});
    publish(storage, 10);

    Process holder = startHolder(LeaseMode.LOCK);
    try {
      Instant now = Instant.now();
      assertThat(claim(storage, UUID.randomUUID(), now, now.plusSeconds(30)))
          .as("the live holder's rows are skipped")
          .isEmpty();
      holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL, mid-"publish"
      long killed = System.nanoTime();
      List<ClaimedEntry> again = List.of();
      while (again.isEmpty() && System.nanoTime() - killed < TimeUnit.SECONDS.toNanos(30)) {
        Instant t = Instant.now(); // well before the holder's one-hour deadline
        again = claim(storage, UUID.randomUUID(), t, t.plusSeconds(30));
        if (again.isEmpty()) {
          Thread.sleep(20);
        }
      }
      double seconds = (System.nanoTime() - killed) / 1e9;
      System.out.printf(
          "lock mode on %s: a killed holder's 10 entries were claimable %.3f s after the kill"
              + " (its claim deadline was 1 h away)%n",
          kind.dialect().name(), seconds);
      assertThat(again).as("claimable without waiting for the claim's deadline").hasSize(10);
      assertThat(seconds).isLessThan(30);
    } finally {
      holder.destroyForcibly();
      storage.finishLockedClaims();
    }
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void aKilledRowLeaseProcessorsEntriesWaitForTheDeadline() throws Exception {
    JdbcStorage storage = storage(b -> {});
    publish(storage, 10);

    Process holder = startHolder(LeaseMode.ROW);
    holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    Instant now = Instant.now();

    assertThat(claim(storage, UUID.randomUUID(), now, now.plusSeconds(30)))
        .as("the contrast: a row lease outlives its processor until the deadline")
        .isEmpty();
    assertThat(claim(storage, UUID.randomUUID(), now.plusSeconds(3601), now.plusSeconds(3630)))
        .hasSize(10);
    storage.finishLockedClaims();
  }

  private Process startHolder(LeaseMode mode) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path log = Files.createDirectories(Path.of("target", "lock-holders")).resolve(kind + ".log");
    Files.deleteIfExists(log);
    Process p =
        new ProcessBuilder(
                java,
                "-Xmx64m",
                "-cp",
                System.getProperty("java.class.path"),
                LockHolder.class.getName(),
                kind.name(),
                TestDatabase.url(kind),
                table,
                mode.name())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!(Files.exists(log) && Files.readString(log).contains("claimed 10"))) {
      assertThat(p.isAlive()).as("the holder runs; see " + log).isTrue();
      assertThat(System.nanoTime()).as("the holder claimed in time").isLessThan(deadline);
      Thread.sleep(20);
    }
    return p;
  }

  @Test
  void renewConvertsTheClaimIntoARowLease() throws Exception {
    JdbcStorage storage = storage(b -> {});
    publish(storage, 3);
    UUID token = UUID.randomUUID();
    List<Long> ids = ids(claim(storage, token, T0, T0.plusSeconds(30)));
    assertThat(ids).hasSize(3);
    assertThat(storage.delete(token, List.of(ids.get(0)))).isEqualTo(1);
    Instant later = T0.plusSeconds(60);

    int renewed = storage.renew(token, ids, later);

    assertThat(renewed).as("the entries still held are renewed").isEqualTo(2);
    assertThat(storage.openLockedClaims()).as("the transaction ended").isZero();
    assertThat(openTransactions()).as("the transaction ended").isZero();
    assertThat(storage.lockedClaimConversions()).isEqualTo(1);
    assertThat(leasedUntil(token, later)).as("the held entries carry a row lease").isEqualTo(2);
    assertThat(TestDatabase.queryLong(kind, "SELECT COUNT(*) FROM " + table))
        .as("the delete before the conversion was committed with it")
        .isEqualTo(2);
    assertThat(claim(storage, UUID.randomUUID(), later.minusSeconds(1), later.plusSeconds(30)))
        .as("hidden until the renewed deadline")
        .isEmpty();
    assertThat(storage.renew(token, ids, later.plusSeconds(30)))
        .as("further renewals are row-lease renewals")
        .isEqualTo(2);
    assertThat(storage.delete(token, List.of(ids.get(1))))
        .as("after the conversion the token fences like a row lease")
        .isEqualTo(1);
    storage.finish(token); // nothing held any more: no-op
    UUID next = UUID.randomUUID();
    List<ClaimedEntry> takenOver =
        claim(storage, next, later.plusSeconds(31), later.plusSeconds(60));
    assertThat(ids(takenOver)).containsExactly(ids.get(2));
    assertThat(storage.delete(token, List.of(ids.get(2))))
        .as("the converted claim's token is fenced once its lease was taken over")
        .isZero();
    storage.finishLockedClaims();
  }

  @Test
  void theHoldLimitConvertsASlowClaim() throws Exception {
    JdbcStorage storage = storage(b -> b.lockHoldLimit(Duration.ofMillis(200)));
    publish(storage, 4);
    UUID token = UUID.randomUUID();
    Instant deadline = T0.plusSeconds(30);
    assertThat(claim(storage, token, T0, deadline)).hasSize(4);

    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (storage.openLockedClaims() > 0 && System.nanoTime() < until) {
      Thread.sleep(10);
    }

    assertThat(storage.openLockedClaims()).as("the transaction ended at the hold limit").isZero();
    assertThat(openTransactions()).isZero();
    assertThat(storage.lockedClaimConversions()).isEqualTo(1);
    assertThat(leasedUntil(token, deadline))
        .as("the entries carry a row lease until the claim's deadline")
        .isEqualTo(4);
    assertThat(claim(storage, UUID.randomUUID(), deadline.minusSeconds(1), deadline)).isEmpty();
  }

  @Test
  void beyondMaxLockedClaimsAClaimTakesARowLease() throws Exception {
    JdbcStorage storage = storage(b -> b.maxLockedClaims(1));
    publish(storage, 2);

    UUID first = UUID.randomUUID();
    UUID second = UUID.randomUUID();
    assertThat(storage.claim(new ClaimRequest("p", first, T0, T0.plusSeconds(30), 1))).hasSize(1);
    assertThat(storage.claim(new ClaimRequest("p", second, T0, T0.plusSeconds(30), 1))).hasSize(1);

    assertThat(storage.openLockedClaims()).isEqualTo(1);
    assertThat(storage.lockedClaimFallbacks()).isEqualTo(1);
    assertThat(leased()).as("the second is a row lease, the first writes none").isOne();
    assertThat(leasedUntil(second, T0.plusSeconds(30))).as("the second is a row lease").isOne();
    storage.finish(first);
    storage.finish(second);
    assertThat(storage.openLockedClaims()).isZero();
    assertThat(claim(storage, UUID.randomUUID(), T0, T0.plusSeconds(30)))
        .as("the finished lock-held claim's entry is claimable at once; the row lease holds")
        .hasSize(1);
    storage.finishLockedClaims();
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void anOutboxDrainsInLockModeAndASlowPublishIsConverted() throws Exception {
    JdbcStorage storage = storage(b -> b.lockHoldLimit(Duration.ofMinutes(1)));
    publish(storage, 30);
    AtomicInteger calls = new AtomicInteger();
    List<Long> published = new ArrayList<>();
    try (Outbox<Connection> outbox =
        Outbox.builder(
                storage,
                entries -> {
                  if (calls.incrementAndGet() == 1) {
                    // slower than half the claim duration: a renewal runs
                    java.util.concurrent.locks.LockSupport.parkNanos(1_500_000_000L);
                  }
                  synchronized (published) {
                    entries.forEach(e -> published.add(e.id()));
                  }
                })
            .processorId("lock-outbox")
            .batchSize(10)
            .claimDuration(Duration.ofSeconds(1))
            .build()) {
      long total = 0;
      PumpResult pass;
      do {
        pass = outbox.pumpOutbox();
        total += pass.published();
      } while (pass.claimed() > 0);
      assertThat(total).isEqualTo(30);
    }
    assertThat(published).doesNotHaveDuplicates().hasSize(30);
    assertThat(TestDatabase.queryLong(kind, "SELECT COUNT(*) FROM " + table)).isZero();
    assertThat(storage.openLockedClaims()).isZero();
    assertThat(openTransactions()).isZero();
    assertThat(storage.lockedClaimConversions())
        .as("the slow first batch was converted by its renewal; the others committed")
        .isEqualTo(1);
  }

  @Test
  void theBuilderChecksTheLockSettings() {
    var b =
        JdbcStorage.builder(TestDatabase.dataSource(kind))
            .dialect(kind.dialect())
            .leaseMode(LeaseMode.LOCK)
            .lockHoldLimit(Duration.ZERO)
            .maxLockedClaims(0);
    org.assertj.core.api.Assertions.assertThatThrownBy(b::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lockHoldLimit is PT0S")
        .hasMessageContaining("maxLockedClaims is 0");
  }
}
