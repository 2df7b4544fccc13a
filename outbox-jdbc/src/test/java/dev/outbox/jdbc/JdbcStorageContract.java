package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.FailedEntry;
import dev.outbox.Message;
import dev.outbox.NewEntry;
import dev.outbox.Ordering;
import dev.outbox.ProcessorStorage;
import dev.outbox.testkit.ProcessorStorageContract;
import java.sql.Connection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The testkit's storage contract on {@link JdbcStorage} with plain JDBC transactions, for each
 * database (see the subclasses).
 */
abstract class JdbcStorageContract extends ProcessorStorageContract<Connection> {

  private final JdbcContractGlue glue;
  private final TestDatabase.Kind kind;
  private final String table;

  JdbcStorageContract(TestDatabase.Kind kind, String table) {
    this(kind, table, LeaseMode.ROW);
  }

  JdbcStorageContract(TestDatabase.Kind kind, String table, LeaseMode leaseMode) {
    this.glue = new JdbcContractGlue(kind, table, Ordering.NONE, leaseMode);
    this.kind = kind;
    this.table = table;
  }

  @Override
  protected ProcessorStorage<Connection> newEmptyStorage() {
    return glue.emptyStorage();
  }

  /** The suite never calls finish: end the test's lock-held claims (JUnit builds one per test). */
  @AfterEach
  void finishLockedClaims() {
    glue.finishLockedClaims();
  }

  @Override
  protected void inTransaction(Consumer<Connection> work) {
    glue.run(work, true);
  }

  @Override
  protected void inRolledBackTransaction(Consumer<Connection> work) {
    glue.run(work, false);
  }

  @Test
  void multiMebibytePayloadsZeroBytesAndHeaderNamesAreKeptExactly() {
    byte[] payload = new byte[3 * 1024 * 1024];
    new Random(42).nextBytes(payload);
    payload[0] = 0;
    payload[1] = 0;
    payload[payload.length - 1] = 0;
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(" Name ", " value with spaces ");
    headers.put("name", "");
    headers.put("NAME", "tab\there\r\nand \"quotes\" \\ é 😀");
    Message m =
        Message.builder()
            .namespace(" ns with spaces ")
            .key(new byte[] {0, 0, 1, 0})
            .payload(payload)
            .headers(headers)
            .build();
    List<NewEntry> entries = newEntries(T0, List.of(m));
    inTransaction(txn -> storage.publish(txn, entries));

    List<ClaimedEntry> claimed =
        storage.claim(new ClaimRequest("p", UUID.randomUUID(), T0, T0.plusSeconds(30), 10));

    assertThat(claimed).hasSize(1);
    ClaimedEntry e = claimed.get(0);
    assertThat(e.message().payload()).isEqualTo(payload);
    assertThat(e.message().key()).containsExactly(0, 0, 1, 0);
    assertThat(e.message().namespace()).isEqualTo(" ns with spaces ");
    assertThat(e.message().headers()).isEqualTo(headers);
    assertThat(e.messageId()).isEqualTo(entries.get(0).messageId());
  }

  @Test
  void aFailureDescriptionCanAlwaysBeRecorded() {
    publish(T0, messages("m", 1));
    UUID token = UUID.randomUUID();
    long id = storage.claim(new ClaimRequest("p", token, T0, T0.plusSeconds(30), 1)).get(0).id();

    int released =
        storage.release(
            token, List.of(new FailedEntry(id, 1, T0, "nul \u0000 and lone \uD800 surrogate")));

    assertThat(released).isEqualTo(1);
    UUID again = UUID.randomUUID();
    storage.claim(new ClaimRequest("p", again, T0, T0.plusSeconds(30), 1));
    assertThat(
            ((JdbcStorage) storage)
                .deadLetter(again, List.of(new FailedEntry(id, 2, T0, "dead \u0000 \uDC00")), T0))
        .isEqualTo(1);
    assertThat(((JdbcStorage) storage).deadLetters(0, 10))
        .singleElement()
        .extracting(DeadLetter::lastError)
        .isEqualTo("dead \uFFFD \uFFFD");
  }
}
