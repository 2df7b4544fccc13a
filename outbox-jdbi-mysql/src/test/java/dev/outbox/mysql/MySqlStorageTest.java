package dev.outbox.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.FailedEntry;
import dev.outbox.ProcessorStorage;
import dev.outbox.testkit.ProcessorStorageContract;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * The storage contract on a real MySQL or MariaDB server, plus what is specific to this adapter.
 */
class MySqlStorageTest extends ProcessorStorageContract<Handle> {

  private static final String TABLE = "jdbc_my_contract";

  private static Jdbi jdbi;
  private static MySqlStorage mysql;

  @Override
  protected ProcessorStorage<Handle> newEmptyStorage() {
    if (jdbi == null) {
      jdbi = TestDatabase.jdbi();
      mysql = MySqlStorage.builder(jdbi).tableName(TABLE).build();
      mysql.createSchema();
    }
    jdbi.useHandle(
        h -> {
          h.execute("TRUNCATE TABLE " + TABLE);
          h.execute("TRUNCATE TABLE " + TABLE + "_dead_letters");
        });
    return mysql;
  }

  @Override
  protected void inTransaction(Consumer<Handle> work) {
    jdbi.useTransaction(work::accept);
  }

  @Override
  protected void inRolledBackTransaction(Consumer<Handle> work) {
    jdbi.useHandle(
        h -> {
          h.begin();
          try {
            work.accept(h);
          } finally {
            h.rollback();
          }
        });
  }

  // ---------------------------------------------------------------- specific to MySQL/MariaDB

  @Test
  void createSchemaIsIdempotent() {
    mysql.createSchema();
    mysql.createSchema();

    assertThat(mysql.schemaSql())
        .contains("CREATE TABLE IF NOT EXISTS `" + TABLE + "`")
        .contains("CREATE TABLE IF NOT EXISTS `" + TABLE + "_dead_letters`");
  }

  @Test
  void timesAreStoredAsUtcWhateverTheSessionTimeZone() {
    // A writer whose session (and driver) think they are 13 hours east of UTC.
    Jdbi farEast =
        TestDatabase.jdbi("&sessionVariables=time_zone='%2B13:00'&connectionTimeZone=SERVER");
    Instant at = T0.plusNanos(123_456_000);
    farEast.useTransaction(h -> storage.publish(h, newEntries(at, messages("tz", 1))));

    List<ClaimedEntry> claimed = claim("p1", at);

    assertThat(claimed).hasSize(1);
    assertThat(claimed.get(0).createdAt()).isEqualTo(at);
    LocalDateTime stored =
        jdbi.withHandle(
            h ->
                h.createQuery("SELECT created_at FROM " + TABLE)
                    .map((rs, ctx) -> rs.getObject(1, LocalDateTime.class))
                    .one());
    assertThat(stored).isEqualTo(LocalDateTime.ofInstant(at, ZoneOffset.UTC));
    assertThat(claim("p2", at)).as("claimed until its deadline").isEmpty();
  }

  @Test
  void instantsAreKeptToTheMicrosecond() {
    Instant at = T0.plusNanos(987_654_321);
    publish(at, messages("m", 1));

    ClaimedEntry e = claim("p1", at).get(0);

    assertThat(e.createdAt()).isEqualTo(T0.plusNanos(987_654_000));
  }

  @Test
  void batchedFailuresCountOnlyTheEntriesStillOwned() {
    // Several statements in one batch: with rewriteBatchedStatements=true Connector/J sends them
    // as one multi-statement round trip, and the counts must still be per entry.
    publish(T0, messages("m", 6));
    UUID p1 = UUID.randomUUID();
    List<ClaimedEntry> claimed =
        storage.claim(new ClaimRequest("p1", p1, T0, T0.plusSeconds(30), 5));
    List<FailedEntry> failures = new ArrayList<>();
    for (ClaimedEntry e : claimed) {
      failures.add(new FailedEntry(e.id(), 1, T0.plusSeconds(1), "x"));
    }
    failures.add(new FailedEntry(424242L, 1, T0, "unknown"));

    assertThat(storage.release(UUID.randomUUID(), failures)).as("not this claim's").isZero();
    assertThat(storage.release(p1, failures)).isEqualTo(5);
    assertThat(claim("p3", T0.plusSeconds(1))).hasSize(6);
  }

  private List<ClaimedEntry> claim(String processor, Instant now) {
    return storage.claim(
        new ClaimRequest(processor, UUID.randomUUID(), now, now.plusSeconds(30), 10));
  }
}
