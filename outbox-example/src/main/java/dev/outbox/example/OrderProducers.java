package dev.outbox.example;

import dev.outbox.Message;
import dev.outbox.Outbox;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Producer threads that do what an order service does: insert an order and publish an {@code
 * order-created} message in the same transaction. Every {@code rollbackEvery}-th transaction rolls
 * back after publishing, on purpose: its message must never be delivered.
 */
final class OrderProducers {

  static final String NAMESPACE = "order-created";

  private static final Pattern ORDER_ID = Pattern.compile("\"orderId\":(\\d+)");

  /** The order id in an {@code order-created} payload, or null when there is none. */
  static Long orderId(String payload) {
    Matcher m = ORDER_ID.matcher(payload);
    return m.find() ? Long.valueOf(m.group(1)) : null;
  }

  /** Thrown to roll a transaction back on purpose. */
  private static final class RollbackOnPurpose extends RuntimeException {
    RollbackOnPurpose() {
      super("rolled back on purpose", null, false, false);
    }
  }

  private final Jdbi jdbi;
  private final Outbox<Handle> outbox;
  private final ExampleOptions options;
  private final String runId;
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger written = new AtomicInteger();

  /** Committed order id → System.nanoTime() just after the commit returned. */
  final Map<Long, Long> committedAt = new ConcurrentHashMap<>();

  final Set<Long> rolledBack = ConcurrentHashMap.newKeySet();
  private final AtomicInteger failures = new AtomicInteger();

  OrderProducers(Jdbi jdbi, Outbox<Handle> outbox, ExampleOptions options, String runId) {
    this.jdbi = jdbi;
    this.outbox = outbox;
    this.options = options;
    this.runId = runId;
  }

  /** Runs every order at the configured rate and returns when all are done. */
  void run() throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(options.producers());
    long start = System.nanoTime();
    long nanosPerOrder = TimeUnit.SECONDS.toNanos(1) / options.rate();
    for (int t = 0; t < options.producers(); t++) {
      pool.execute(
          () -> {
            int i;
            while ((i = next.getAndIncrement()) < options.orders()) {
              long due = start + i * nanosPerOrder;
              long wait = due - System.nanoTime();
              if (wait > 0) {
                LockSupport.parkNanos(wait); // pacing to the offered rate, not waiting for a result
              }
              placeOrder(i);
            }
          });
    }
    pool.shutdown();
    if (!pool.awaitTermination(1, TimeUnit.HOURS)) {
      throw new IllegalStateException("producers did not finish");
    }
  }

  private void placeOrder(int i) {
    boolean rollback = options.rollbackEvery() > 0 && (i + 1) % options.rollbackEvery() == 0;
    String customer = "customer-" + (i % 97);
    long amountCents = 100 + (i * 7919L) % 100_000;
    long[] orderId = new long[1];
    try {
      jdbi.useTransaction(
          h -> {
            orderId[0] =
                h.createQuery(
                        "INSERT INTO example_orders (customer, amount_cents) VALUES (:c, :a) RETURNING id")
                    .bind("c", customer)
                    .bind("a", amountCents)
                    .mapTo(Long.class)
                    .one();
            outbox.publish(
                h,
                Message.builder()
                    .namespace(NAMESPACE)
                    .key(customer)
                    .payload(
                        "{\"run\":\""
                            + runId
                            + "\",\"orderId\":"
                            + orderId[0]
                            + ",\"customer\":\""
                            + customer
                            + "\",\"amountCents\":"
                            + amountCents
                            + "}")
                    .header("content-type", "application/json")
                    .build());
            if (rollback) {
              rolledBack.add(orderId[0]);
              throw new RollbackOnPurpose();
            }
          });
      committedAt.put(orderId[0], System.nanoTime());
    } catch (RollbackOnPurpose expected) {
      // the order and its message are gone together
    } catch (RuntimeException e) {
      failures.incrementAndGet();
      System.err.println("order " + i + " failed: " + e);
    } finally {
      written.incrementAndGet();
    }
  }

  int written() {
    return written.get();
  }

  int failures() {
    return failures.get();
  }
}
