package dev.outbox.testkit;

import dev.outbox.ProcessorStorage;
import java.util.function.Consumer;

/** InMemoryStorage passes the same contract every database adapter must pass. */
class InMemoryStorageTest extends ProcessorStorageContract<Object> {

  @Override
  protected ProcessorStorage<Object> newEmptyStorage() {
    return new InMemoryStorage<>();
  }

  @Override
  protected void inTransaction(Consumer<Object> work) {
    work.accept(new Object());
  }
}
