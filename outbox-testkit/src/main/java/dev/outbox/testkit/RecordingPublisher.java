package dev.outbox.testkit;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A {@link Publisher} that records what it accepts, and can be told to fail: everything, the
 * entries a predicate picks, or every n-th entry it sees.
 *
 * <pre>{@code
 * RecordingPublisher publisher = new RecordingPublisher();
 * publisher.failWhen(e -> e.message().namespace().equals("bad"));   // per-entry, retryable
 * publisher.failEveryNth(3);                                         // every third entry
 * publisher.failAll(new IllegalStateException("broker down"));       // the whole batch throws
 * publisher.succeed();                                               // back to normal
 * publisher.maxMessageBytes(256 * 1024);                             // a broker's size limit
 * publisher.keepsOrder(true);                     // a failed entry holds back its key's later ones
 * }</pre>
 *
 * <p>With a {@link #maxMessageBytes size limit}, {@link #checkDeliverable} refuses larger messages
 * and {@link #publish} fails them permanently, as a real broker adapter must.
 *
 * <p>Thread-safe: several outboxes may share one.
 */
public final class RecordingPublisher implements Publisher {

  private final List<ClaimedEntry> published = new ArrayList<>();
  private final Map<Long, Integer> deliveries = new HashMap<>();
  private RuntimeException failAll;
  private Predicate<ClaimedEntry> failWhen = e -> false;
  private Predicate<ClaimedEntry> failRetryablyWhen = e -> false;
  private boolean permanent;
  private int everyNth;
  private int maxMessageBytes = Integer.MAX_VALUE;
  private long seen;
  private int batches;
  private volatile Consumer<List<ClaimedEntry>> beforePublish = batch -> {};
  private volatile boolean keepsOrder;

  @Override
  public void publish(List<ClaimedEntry> entries) throws PublishException {
    beforePublish.accept(entries);
    synchronized (this) {
      batches++;
      if (failAll != null) {
        seen += entries.size();
        throw failAll;
      }
      PublishException.Builder failures = PublishException.builder();
      Set<Object> failedKeys = new HashSet<>();
      for (ClaimedEntry e : entries) {
        seen++;
        int size = e.message().sizeInBytes();
        boolean nth = everyNth > 0 && seen % everyNth == 0;
        boolean told = nth || failWhen.test(e);
        Object key = keepsOrder ? orderKey(e) : null;
        if (size > maxMessageBytes) {
          failures.permanent(e, new IllegalArgumentException(tooLarge(size)));
        } else if (told && permanent) {
          failures.permanent(e, toldToFail(e));
        } else if (key != null && failedKeys.contains(key)) {
          // Held back for the key's order; an entry that fails permanently on its own account
          // (above) fails so, as it would have without the earlier failure.
          failures.retryable(
              e,
              new IllegalStateException(
                  "RecordingPublisher held back entry "
                      + e.id()
                      + ": an earlier entry of its key failed in this call"));
        } else if (told || failRetryablyWhen.test(e)) {
          failures.retryable(e, toldToFail(e));
        } else {
          published.add(e);
          deliveries.merge(e.id(), 1, Integer::sum);
          continue;
        }
        if (key != null) {
          failedKeys.add(key);
        }
      }
      notifyAll();
      failures.throwIfAny();
    }
  }

  /**
   * What {@link #keepsOrder(boolean)} was told; {@code false} unless told otherwise, as for any
   * publisher.
   */
  @Override
  public boolean keepsOrder() {
    return keepsOrder;
  }

  /**
   * Declares that this publisher keeps each key's order ({@link Publisher#keepsOrder()}), and keeps
   * it: within a call, once an entry fails by the rules set here (size limit, {@link #failWhen},
   * {@link #failEveryNth}), every later entry of its key (namespace and key) in the call fails
   * retryably and is not accepted. Entries without a key are never held back. Not reset by {@link
   * #succeed()}; default {@code false}.
   */
  public RecordingPublisher keepsOrder(boolean keepsOrder) {
    this.keepsOrder = keepsOrder;
    return this;
  }

  private static Object orderKey(ClaimedEntry e) {
    byte[] key = e.message().key();
    return key == null ? null : List.of(e.message().namespace(), ByteBuffer.wrap(key));
  }

  private static IllegalStateException toldToFail(ClaimedEntry e) {
    return new IllegalStateException("RecordingPublisher was told to fail entry " + e.id());
  }

  /**
   * Refuses messages larger than {@code limit} bytes ({@link Message#sizeInBytes()}).
   *
   * @throws IllegalArgumentException naming the limit when the message is larger
   */
  @Override
  public void checkDeliverable(Message message) {
    int size = message.sizeInBytes();
    int limit;
    synchronized (this) {
      limit = maxMessageBytes;
    }
    if (size > limit) {
      throw new IllegalArgumentException(tooLarge(size));
    }
  }

  private synchronized String tooLarge(int size) {
    return "message is "
        + size
        + " bytes; this RecordingPublisher's maxMessageBytes is "
        + maxMessageBytes;
  }

  /**
   * Simulates a broker's size limit: messages over {@code limit} bytes ({@link
   * Message#sizeInBytes()}) are refused by {@link #checkDeliverable} and fail permanently in {@link
   * #publish}. Not reset by {@link #succeed()}.
   */
  public synchronized RecordingPublisher maxMessageBytes(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit is " + limit + "; it must be 1 or more");
    }
    this.maxMessageBytes = limit;
    return this;
  }

  /** Makes every batch fail as a whole with this exception, until {@link #succeed()}. */
  public synchronized RecordingPublisher failAll(RuntimeException failure) {
    this.failAll = failure;
    return this;
  }

  /** Fails (retryably) the entries the predicate picks, until {@link #succeed()}. */
  public synchronized RecordingPublisher failWhen(Predicate<ClaimedEntry> predicate) {
    this.failWhen = predicate;
    this.permanent = false;
    return this;
  }

  /** Fails permanently the entries the predicate picks, until {@link #succeed()}. */
  public synchronized RecordingPublisher failPermanentlyWhen(Predicate<ClaimedEntry> predicate) {
    this.failWhen = predicate;
    this.permanent = true;
    return this;
  }

  /**
   * Also fails, retryably, the entries this predicate picks, whatever {@link #failWhen} or {@link
   * #failPermanentlyWhen} says about others, until {@link #succeed()}: for a test that needs
   * permanent and retryable failures side by side.
   */
  public synchronized RecordingPublisher failRetryablyWhen(Predicate<ClaimedEntry> predicate) {
    this.failRetryablyWhen = predicate;
    return this;
  }

  /** Fails (retryably) every n-th entry this publisher sees, counting across batches. */
  public synchronized RecordingPublisher failEveryNth(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("n is " + n + "; it must be 1 or more");
    }
    this.everyNth = n;
    return this;
  }

  /** Stops failing. */
  public synchronized RecordingPublisher succeed() {
    this.failAll = null;
    this.failWhen = e -> false;
    this.failRetryablyWhen = e -> false;
    this.permanent = false;
    this.everyNth = 0;
    return this;
  }

  /**
   * Runs {@code hook} at the start of every {@link #publish} call, outside this publisher's lock: a
   * test can block a batch there (a latch) to act while it is in flight.
   */
  public RecordingPublisher beforePublish(Consumer<List<ClaimedEntry>> hook) {
    this.beforePublish = hook;
    return this;
  }

  /** Every accepted entry in the order accepted, redeliveries included. */
  public synchronized List<ClaimedEntry> published() {
    return new ArrayList<>(published);
  }

  /** The messages of {@link #published()}. */
  public synchronized List<Message> messages() {
    return published.stream().map(ClaimedEntry::message).toList();
  }

  /** How many entries were accepted, redeliveries included. */
  public synchronized int count() {
    return published.size();
  }

  /** How many distinct entries were accepted. */
  public synchronized int distinctCount() {
    return deliveries.size();
  }

  /** How many times the entry with this id was accepted. */
  public synchronized int deliveriesOf(long id) {
    return deliveries.getOrDefault(id, 0);
  }

  /** Accepted deliveries by entry id. */
  public synchronized Map<Long, Integer> deliveries() {
    return new HashMap<>(deliveries);
  }

  /** How many times {@link #publish} was called. */
  public synchronized int batches() {
    return batches;
  }

  /** How many entries {@link #publish} was given, failed ones included. */
  public synchronized long seen() {
    return seen;
  }

  /**
   * Blocks (in real time, at most {@code timeout}) until at least {@code distinct} distinct entries
   * were accepted.
   *
   * @throws AssertionError when they were not in time
   */
  public synchronized void awaitDistinct(int distinct, Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    while (deliveries.size() < distinct) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "expected "
                + distinct
                + " distinct entries published within "
                + timeout
                + " but saw "
                + deliveries.size());
      }
      try {
        wait(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }

  /** Forgets everything recorded (not the failure settings). */
  public synchronized void clear() {
    published.clear();
    deliveries.clear();
    seen = 0;
    batches = 0;
  }
}
