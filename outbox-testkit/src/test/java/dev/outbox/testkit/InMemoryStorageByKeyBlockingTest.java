package dev.outbox.testkit;

import dev.outbox.Ordering;
import dev.outbox.ProcessorStorage;
import java.util.function.Consumer;

/**
 * The whole storage contract, its ordered section included, on InMemoryStorage(BY_KEY_BLOCKING).
 */
class InMemoryStorageByKeyBlockingTest extends OrderedStorageContract<InMemoryStorage.Transaction> {

  private InMemoryStorage<InMemoryStorage.Transaction> memory;

  @Override
  protected ProcessorStorage<InMemoryStorage.Transaction> newEmptyStorage() {
    memory = new InMemoryStorage<>(Ordering.BY_KEY_BLOCKING);
    return memory;
  }

  @Override
  protected void inTransaction(Consumer<InMemoryStorage.Transaction> work) {
    try (InMemoryStorage.Transaction tx = memory.begin()) {
      work.accept(tx);
      tx.commit();
    }
  }

  @Override
  protected void inRolledBackTransaction(Consumer<InMemoryStorage.Transaction> work) {
    try (InMemoryStorage.Transaction tx = memory.begin()) {
      work.accept(tx);
      tx.rollback();
    }
  }
}
