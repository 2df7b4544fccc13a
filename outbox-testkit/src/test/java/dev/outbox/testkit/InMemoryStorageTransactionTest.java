package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** InMemoryStorage's transactions: invisible until commit, gone on rollback, single use. */
class InMemoryStorageTransactionTest {

  private static final Instant T0 = FakeClock.DEFAULT_START;

  private final InMemoryStorage<Object> storage = new InMemoryStorage<>();

  private static List<Message> messages(String payload) {
    return List.of(Message.builder().namespace("n").payload(payload).build());
  }

  private List<String> claimAll() {
    return storage
        .claim(new ClaimRequest("p", UUID.randomUUID(), T0, T0.plusSeconds(30), 100))
        .stream()
        .map(e -> e.message().payloadAsString())
        .toList();
  }

  @Test
  void entriesAppearAtCommitWithIdsInCommitOrder() {
    InMemoryStorage.Transaction first = storage.begin();
    InMemoryStorage.Transaction second = storage.begin();
    storage.publish(first, T0, messages("begun first, committed last"));
    storage.publish(second, T0, messages("begun second, committed first"));
    assertThat(storage.size()).isZero();

    second.commit();
    first.commit();

    List<ClaimedEntry> claimed =
        storage.claim(new ClaimRequest("p", UUID.randomUUID(), T0, T0.plusSeconds(30), 10));
    assertThat(claimed)
        .extracting(e -> e.message().payloadAsString())
        .containsExactly("begun second, committed first", "begun first, committed last");
  }

  @Test
  void rollbackAndCloseWithoutCommitDiscard() {
    InMemoryStorage.Transaction rolledBack = storage.begin();
    storage.publish(rolledBack, T0, messages("rolled back"));
    rolledBack.rollback();
    try (InMemoryStorage.Transaction abandoned = storage.begin()) {
      storage.publish(abandoned, T0, messages("abandoned"));
    }

    assertThat(claimAll()).isEmpty();
    assertThat(rolledBack.isOpen()).isFalse();
  }

  @Test
  void aFinishedTransactionRefusesFurtherUse() {
    InMemoryStorage.Transaction tx = storage.begin();
    tx.commit();

    assertThatThrownBy(() -> storage.publish(tx, T0, messages("late")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already committed");
    assertThatThrownBy(tx::rollback)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot roll back a transaction already committed");
  }

  @Test
  void aTransactionOfAnotherStorageIsRefused() {
    InMemoryStorage.Transaction foreign = new InMemoryStorage<Object>().begin();

    assertThatThrownBy(() -> storage.publish(foreign, T0, messages("x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("another InMemoryStorage");
  }

  @Test
  void anyOtherHandleAutoCommits() {
    storage.publish(new Object(), T0, messages("at once"));

    assertThat(claimAll()).containsExactly("at once");
  }
}
