package dev.outbox.example;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.PumpResult;
import dev.outbox.testkit.InMemoryStorage;
import dev.outbox.testkit.RecordingPublisher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The outbox end to end in memory: writes messages, lets a publisher fail some of them, and shows
 * that the retries deliver every one. Runs with no database and no broker.
 */
public final class InMemoryDemo {

  private InMemoryDemo() {}

  public static void main(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    RecordingPublisher broker = new RecordingPublisher().failEveryNth(10);
    Outbox<Object> outbox =
        Outbox.builder(storage, broker)
            .processorId("demo")
            .batchSize(100)
            .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(100))
            .processInterval(Duration.ofMillis(20))
            .build();
    try {
      Object txn = new Object(); // InMemoryStorage has no transactions; a database storage would
      List<Message> batch = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        batch.add(Message.builder().namespace("orders").key("order-" + i).payload("{\"order\":" + i + "}").build());
      }
      outbox.publish(txn, batch);
      System.out.printf("wrote %d messages; the broker fails every 10th delivery attempt%n", count);

      PumpResult first = outbox.pumpOutbox();
      System.out.printf(
          "first pass: %d published, %d failed and waiting for a retry%n",
          first.published(), first.failed());

      outbox.start();
      broker.awaitDistinct(count, Duration.ofSeconds(30));
    } finally {
      outbox.close(); // finishes the batch in hand, so the counts below are final
    }
    System.out.printf(
        "after retries: %d of %d delivered, %d attempts in all, %d left in the outbox%n",
        broker.distinctCount(), count, broker.seen(), storage.size());
    if (broker.distinctCount() != count || storage.size() != 0) {
      System.exit(1);
    }
  }
}
