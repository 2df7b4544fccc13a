package dev.outbox.testkit;

import dev.outbox.ProcessorStorage;
import java.util.function.Consumer;

/**
 * InMemoryStorage passes the same contract every database adapter must pass, rollback included:
 * nothing is skipped.
 */
class InMemoryStorageTest extends ProcessorStorageContract<InMemoryStorage.Transaction> {

  private InMemoryStorage<InMemoryStorage.Transaction> memory;

  @Override
  protected ProcessorStorage<InMemoryStorage.Transaction> newEmptyStorage() {
    memory = new InMemoryStorage<>();
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
