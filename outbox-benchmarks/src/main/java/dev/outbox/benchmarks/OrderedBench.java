package dev.outbox.benchmarks;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.Ordering;
import dev.outbox.Outbox;
import dev.outbox.ProcessorStorage;
import dev.outbox.Publisher;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.jdbi.v3.core.Handle;

/**
 * The ordered drain (issue: "ordered drain with 10,000 distinct keys and with 10 hot keys, against
 * the unordered drain in the same run"). Each variant writes the same backlog through {@code
 * Outbox.publish} (100 messages per transaction, one thread, real keys), so the preload is itself a
 * figure: what the ordered storage's per-key lock costs a writer (PostgreSQL: advisory xact locks;
 * MySQL: stripe-row upserts). Then the same number of outboxes drain it with a no-op publisher.
 */
final class OrderedBench {

  /** Distinct keys of the unordered and the many-keys variants. */
  static final int MANY_KEYS = 10_000;

  /** Distinct keys of the hot-keys variants. */
  static final int HOT_KEYS = 10;

  /** One way to write and drain the backlog. */
  enum Variant {
    /** Unordered storage, keys spread over 10,000 keys: the yardstick. */
    UNORDERED("unordered", Ordering.NONE, MANY_KEYS, true),
    /** Ordered storage, 10,000 distinct keys, a publisher that keeps order (runs per key). */
    MANY("many", Ordering.BY_KEY, MANY_KEYS, true),
    /** Ordered storage, 10 hot keys, a publisher that keeps order (runs per key). */
    HOT("hot", Ordering.BY_KEY, HOT_KEYS, true),
    /**
     * Ordered storage, 10 hot keys, a publisher that does not keep order: one entry per key per
     * call, so at most 10 entries a claim.
     */
    HOT_PER_KEY("hot_per_key", Ordering.BY_KEY, HOT_KEYS, false);

    final String label;
    final Ordering ordering;
    final int keys;
    final boolean keepsOrder;

    Variant(String label, Ordering ordering, int keys, boolean keepsOrder) {
      this.label = label;
      this.ordering = ordering;
      this.keys = keys;
      this.keepsOrder = keepsOrder;
    }

    String what() {
      return (ordering.byKey() ? "ordered (BY_KEY)" : "unordered")
          + ", "
          + String.format(java.util.Locale.ROOT, "%,d", keys)
          + " keys, publisher "
          + (keepsOrder ? "keepsOrder() (a key's run per call)" : "not keeping order (1 per key)");
    }
  }

  /** A variant's two figures. */
  record Result(double publishRate, DrainResult drain) {}

  private final OurStorage ours;
  private final SqlDatabase db;
  private final Options o;
  private final byte[] payload;

  OrderedBench(OurStorage ours, SqlDatabase db, Options o, byte[] payload) {
    this.ours = ours;
    this.db = db;
    this.o = o;
    this.payload = payload;
  }

  /**
   * Writes {@code backlog} messages the variant's way, then drains them with {@code processors}.
   */
  Result run(Variant v, int processors, int backlog) throws Exception {
    double publish = preload(v, backlog);
    return new Result(publish, drain(v, processors, backlog));
  }

  /** Outbox.publish of message i with key {@code k<i mod keys>}, 100 per transaction; msgs/s. */
  private double preload(Variant v, int n) throws Exception {
    db.reset();
    ProcessorStorage<Handle> storage = ours.storage(OurStorage.Notify.NONE, v.ordering);
    try (Outbox<Handle> outbox = Outbox.builder(storage, entries -> {}).build()) {
      long start = System.nanoTime();
      for (int first = 0; first < n; first += OurBench.PRODUCER_TX_SIZE) {
        int count = Math.min(OurBench.PRODUCER_TX_SIZE, n - first);
        List<Message> batch = new ArrayList<>(count);
        for (int i = first; i < first + count; i++) {
          batch.add(
              Message.builder()
                  .namespace(SqlDatabase.NAMESPACE)
                  .key(SqlDatabase.key(i % v.keys))
                  .payload(payload)
                  .build());
        }
        ours.jdbi.useTransaction(h -> outbox.publish(h, batch));
      }
      long took = System.nanoTime() - start;
      long rows = db.count();
      if (rows != n) {
        throw new IllegalStateException("the ordered preload wrote " + rows + " rows for " + n);
      }
      db.analyze();
      return Bench.rate(n, took);
    }
  }

  /** Drains the table with {@code processors} outboxes, each pumping until a pass finds nothing. */
  private DrainResult drain(Variant v, int processors, int backlog) throws Exception {
    LongAdder published = new LongAdder();
    Publisher counting =
        v.keepsOrder ? new OrderKeeping(published) : entries -> published.add(entries.size());
    return OurBench.drainLoaded(
        db,
        o,
        processors,
        backlog,
        ours.storage(OurStorage.Notify.NONE, v.ordering),
        counting,
        published,
        "bench-ordered-",
        "the " + v.label + " drain");
  }

  /**
   * A no-op publisher that says it keeps order: it hands nothing anywhere, so list order is kept
   * trivially and nothing can fail.
   */
  private record OrderKeeping(LongAdder published) implements Publisher {
    @Override
    public void publish(List<ClaimedEntry> entries) {
      published.add(entries.size());
    }

    @Override
    public boolean keepsOrder() {
      return true;
    }
  }
}
