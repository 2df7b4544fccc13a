package dev.outbox;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A transactional outbox: {@link #publish} writes messages inside the caller's database
 * transaction; a processor later claims them, hands them to the {@link Publisher} and deletes them
 * once the broker has them.
 *
 * <pre>{@code
 * Outbox<Handle> outbox = Outbox.builder(storage, publisher).build();
 * outbox.start();
 * jdbi.useTransaction(h -> {
 *   orders.insert(h, order);
 *   outbox.publish(h, Message.builder().namespace("orders").key(id).payload(json).build());
 * });
 * outbox.wakeProcessor();
 * }</pre>
 *
 * <p>Delivery is at least once: an entry is deleted only after the publisher accepted it, so a
 * crash between the two, or a lease that expired mid-publish, can deliver it again. Each entry
 * carries a stable id for consumers to deduplicate by.
 *
 * <p>Thread-safe. {@link #pumpOutbox()} passes are serialised per outbox; run several outboxes (in
 * one or many processes) over the same storage to share a backlog.
 *
 * @param <T> the caller's transaction handle, as the storage defines it
 */
public final class Outbox<T> implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Outbox.class);

  private final ProcessorStorage<T> storage;
  private final Publisher publisher;
  private final OutboxConfig config;
  private final Clock clock;
  private final SystemClock ownClock; // null when the caller supplied a clock
  private final OutboxListener listener;
  private final List<UnaryOperator<Message>> writeDecorators;
  private final ThreadFactory threadFactory;
  private final ExecutorService renewalExecutor;
  private final ThreadPoolExecutor publishExecutor;
  private final BatchProcessor processor;
  private final ProcessingLoop loop;
  private final ReentrantLock pumpLock = new ReentrantLock();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile Thread loopThread;

  private Outbox(Builder<T> b, OutboxConfig config) {
    this.storage = b.storage;
    this.publisher = b.publisher;
    this.config = config;
    this.threadFactory = b.threadFactory;
    if (b.clock == null || b.clock == SystemClock.SHARED) {
      // The outbox's own wall clock: its timer thread comes from our thread factory and ends with
      // close(), so a redeploy in the same JVM leaves no thread behind.
      this.ownClock =
          new SystemClock(named(b.threadFactory, "outbox-clock-" + config.processorId()));
      this.clock = ownClock;
    } else {
      this.ownClock = null;
      this.clock = b.clock;
    }
    this.listener = new Listeners(b.listeners);
    this.writeDecorators = List.copyOf(b.writeDecorators);
    this.renewalExecutor =
        Executors.newSingleThreadExecutor(
            named(b.threadFactory, "outbox-lease-" + config.processorId()));
    // A publish call runs on a thread of its own so that it can be abandoned after
    // publishTimeout; an abandoned call that ignores its interrupt keeps its (daemon) thread and
    // the next call gets a new one.
    ThreadFactory publishThreads = named(b.threadFactory, "outbox-publish-" + config.processorId());
    this.publishExecutor =
        new ThreadPoolExecutor(
            0,
            Integer.MAX_VALUE,
            30,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = publishThreads.newThread(r);
              t.setDaemon(true);
              return t;
            });
    this.processor =
        new BatchProcessor(
            b.storage,
            new PublishCall(b.publisher, clock, config.publishTimeout(), publishExecutor),
            b.publisher.getClass().getName(),
            clock,
            config,
            listener,
            new Backoff(
                config.retryBackoffInitial(),
                config.retryBackoffMax(),
                config.retryJitter(),
                b.random),
            renewalExecutor);
    this.loop =
        new ProcessingLoop(
            stop -> pump(() -> stop.getAsBoolean() || closed.get()),
            clock,
            config.processInterval(),
            config.busyInterval(),
            new Backoff(config.errorBackoffInitial(), config.errorBackoffMax(), 0.2, b.random),
            listener,
            config.processorId());
  }

  /**
   * Starts building an outbox over a storage and a publisher.
   *
   * @param storage where entries live
   * @param publisher where entries go
   */
  public static <T> Builder<T> builder(ProcessorStorage<T> storage, Publisher publisher) {
    return new Builder<>(storage, publisher);
  }

  /** The validated settings. */
  public OutboxConfig config() {
    return config;
  }

  /**
   * The clock this outbox runs on: the one given to the builder, or the outbox's own wall clock.
   * Give it to anything that must agree with the outbox on time (metrics on a {@code FakeClock}).
   */
  public Clock clock() {
    return clock;
  }

  /**
   * Whether this outbox keeps each key's messages in order: its storage's {@link
   * ProcessorStorage#ordering()}.
   */
  public Ordering ordering() {
    return storage.ordering();
  }

  /** This processor's id, as recorded in its claims. */
  public String processorId() {
    return config.processorId();
  }

  /**
   * Writes messages to the outbox inside the caller's open transaction. They are published after
   * the transaction commits, and never if it rolls back. Each gets a message id (a UUID version 7)
   * unique beyond its table, which publishers send along for consumers to deduplicate by. Call
   * {@link #wakeProcessor()} after the commit to publish them at once rather than at the next
   * interval.
   *
   * @throws IllegalArgumentException when a message is null, larger than {@code maxMessageBytes},
   *     or one the configured publisher could never deliver ({@link Publisher#checkDeliverable});
   *     the message is named by its index and nothing is written
   * @throws IllegalStateException when this outbox is closed
   */
  public void publish(T txn, Message... messages) {
    publish(txn, Arrays.asList(messages));
  }

  /** Writes messages inside the caller's transaction; see {@link #publish(Object, Message...)}. */
  public void publish(T txn, List<Message> messages) {
    Objects.requireNonNull(txn, "txn must not be null: publish inside your transaction");
    Objects.requireNonNull(messages, "messages must not be null");
    if (closed.get()) {
      throw new IllegalStateException(
          "outbox " + config.processorId() + " is closed; it accepts no more messages");
    }
    if (messages.isEmpty()) {
      return;
    }
    List<Message> checked = new ArrayList<>(messages.size());
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
      if (m == null) {
        throw new IllegalArgumentException("message " + i + " of " + messages.size() + " is null");
      }
      for (UnaryOperator<Message> decorator : writeDecorators) {
        m = decorator.apply(m);
        if (m == null) {
          throw new IllegalStateException(
              "a message decorator (" + decorator.getClass().getName() + ") returned null");
        }
      }
      int size = m.sizeInBytes();
      if (size > config.maxMessageBytes()) {
        throw new IllegalArgumentException(
            describe(i, m)
                + " is "
                + size
                + " bytes; maxMessageBytes is "
                + config.maxMessageBytes());
      }
      try {
        publisher.checkDeliverable(m);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            describe(i, m)
                + " can never be delivered by "
                + publisher.getClass().getName()
                + ": "
                + e.getMessage(),
            e);
      }
      checked.add(m);
    }
    Instant now = clock.now();
    List<NewEntry> entries = new ArrayList<>(checked.size());
    for (Message m : checked) {
      entries.add(new NewEntry(MessageIds.next(), m, now));
    }
    storage.publish(txn, entries);
    listener.onWritten(checked);
  }

  private static String describe(int index, Message m) {
    return "message " + index + " (namespace " + m.namespace() + ")";
  }

  /**
   * Processes the outbox once, synchronously, on the calling thread: claims batches, publishes them
   * and deletes what was sent, until a batch comes back short or has a failure. Tests call this
   * instead of starting the loop. Waits while another pass of this outbox runs.
   *
   * @return what the pass did
   * @throws OutboxException when the storage fails (the publisher's failures are recorded on the
   *     entries, not thrown)
   */
  public PumpResult pumpOutbox() {
    return pump(closed::get);
  }

  private PumpResult pump(java.util.function.BooleanSupplier stop) {
    pumpLock.lock();
    try {
      return processor.pump(stop);
    } finally {
      pumpLock.unlock();
    }
  }

  /**
   * Asks the background loop to pump now instead of at the next interval. Never blocks; calls made
   * while a pass is waiting coalesce into one pass. Does nothing before {@link #start()} or after
   * {@link #close()}.
   */
  public void wakeProcessor() {
    loop.wake();
  }

  /**
   * Starts the background loop on a thread from the thread factory. It pumps at once, then after
   * every wake-up or {@code processInterval}; after a failed pass it backs off exponentially and
   * tries again, and it never dies of an exception. Calling it again does nothing.
   *
   * @return this outbox
   * @throws IllegalStateException when this outbox is closed
   */
  public Outbox<T> start() {
    if (closed.get()) {
      throw new IllegalStateException("outbox " + config.processorId() + " is closed");
    }
    if (started.compareAndSet(false, true)) {
      log.info("starting outbox {}", config);
      Thread t = named(threadFactory, "outbox-" + config.processorId()).newThread(loop);
      loopThread = t;
      t.start();
    }
    return this;
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed.get();
  }

  /** Whether the background loop runs. */
  public boolean isRunning() {
    Thread t = loopThread;
    return t != null && t.isAlive();
  }

  /**
   * How the background loop is doing: running or not, its last successful pass, failures in a row,
   * and what stopped it if it stopped on its own. For health checks.
   */
  public OutboxHealth health() {
    return loop.health(started.get(), isRunning());
  }

  /** Whether the storage counts its backlog, so {@link #stats()} works. */
  public boolean supportsStats() {
    return storage instanceof StatisticsStorage;
  }

  /**
   * Counts the backlog; see {@link OutboxStats}.
   *
   * @throws UnsupportedOperationException when the storage is no {@link StatisticsStorage}
   */
  public OutboxStats stats() {
    if (!(storage instanceof StatisticsStorage s)) {
      throw new UnsupportedOperationException(
          storage.getClass().getName() + " keeps no statistics (it is no StatisticsStorage)");
    }
    return s.stats(clock.now());
  }

  /** Whether the storage keeps dead letters, so {@link #deadLetters()} works. */
  public boolean supportsDeadLetters() {
    return storage instanceof DeadLetterStorage;
  }

  /**
   * Lists, requeues and purges dead letters.
   *
   * @throws UnsupportedOperationException when the storage is no {@link DeadLetterStorage}
   */
  public DeadLetters deadLetters() {
    if (!(storage instanceof DeadLetterStorage d)) {
      throw new UnsupportedOperationException(
          storage.getClass().getName() + " keeps no dead letters (it is no DeadLetterStorage)");
    }
    return new DeadLetters(d, clock);
  }

  /**
   * Stops the loop after the batch in hand (waiting up to {@code shutdownTimeout}, then
   * interrupting it), waits as long again for a {@link #pumpOutbox()} running on another thread,
   * then ends every thread this outbox made (loop, lease renewal, publish calls, its own clock) and
   * refuses further messages. Nothing is lost: entries not yet claimed stay in the storage, and an
   * abandoned batch is claimable by others once its lease expires. Calling it again does nothing.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    loop.stop();
    long waitMillis = Math.max(1, config.shutdownTimeout().toMillis());
    Thread t = loopThread;
    try {
      if (t != null && t != Thread.currentThread()) {
        t.join(waitMillis);
        if (t.isAlive()) {
          log.warn(
              "outbox {} did not stop within {}; interrupting it",
              config.processorId(),
              config.shutdownTimeout());
          t.interrupt();
          t.join(1000);
        }
      }
      // A caller's own pumpOutbox() may still be publishing: its lease renewals need the executor.
      if (pumpLock.tryLock(waitMillis, TimeUnit.MILLISECONDS)) {
        pumpLock.unlock();
      } else {
        log.warn(
            "a pumpOutbox() call on outbox {} did not finish within {}; closing anyway",
            config.processorId(),
            config.shutdownTimeout());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    renewalExecutor.shutdownNow();
    publishExecutor.shutdownNow();
    try {
      renewalExecutor.awaitTermination(1, TimeUnit.SECONDS);
      publishExecutor.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (ownClock != null) {
      ownClock.shutdown();
    }
  }

  private static ThreadFactory named(ThreadFactory factory, String name) {
    return r -> {
      Thread t = factory.newThread(r);
      t.setName(name);
      return t;
    };
  }

  private static String defaultProcessorId() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException | RuntimeException e) {
      host = "host";
    }
    String suffix = Long.toHexString(RandomGenerator.getDefault().nextLong() >>> 32);
    String id = host + "-" + suffix;
    return id.length() > Builder.MAX_PROCESSOR_ID_LENGTH
        ? id.substring(id.length() - Builder.MAX_PROCESSOR_ID_LENGTH)
        : id;
  }

  /**
   * Builds an {@link Outbox}. Every setting has a default that works; {@link #build()} checks them
   * all at once and names every bad one with its allowed range.
   *
   * <table>
   *   <caption>Settings</caption>
   *   <tr><th>setting</th><th>default</th><th>allowed</th></tr>
   *   <tr><td>processorId</td><td>host name + random suffix</td><td>1 to 200 characters</td></tr>
   *   <tr><td>batchSize</td><td>100</td><td>1 to 10,000</td></tr>
   *   <tr><td>claimDuration</td><td>30 s</td><td>100 ms to 1 day</td></tr>
   *   <tr><td>processInterval</td><td>1 s</td><td>1 ms to 1 day</td></tr>
   *   <tr><td>busyInterval</td><td>20 ms</td><td>0 to 1 day (0: off)</td></tr>
   *   <tr><td>maxAttempts</td><td>unlimited</td><td>1 or more (needs a storage with dead
   *   letters)</td></tr>
   *   <tr><td>retryBackoff</td><td>1 s doubling to 5 min</td><td>0 to 1 day</td></tr>
   *   <tr><td>retryJitter</td><td>0.2</td><td>0 to 1</td></tr>
   *   <tr><td>errorBackoff</td><td>100 ms doubling to 30 s</td><td>1 ms to 1 day</td></tr>
   *   <tr><td>maxMessageBytes</td><td>1 MiB</td><td>1 byte to 64 MiB</td></tr>
   *   <tr><td>shutdownTimeout</td><td>10 s</td><td>0 to 1 hour</td></tr>
   *   <tr><td>publishTimeout</td><td>2 min</td><td>100 ms to 1 day</td></tr>
   * </table>
   */
  public static final class Builder<T> {
    static final int MAX_PROCESSOR_ID_LENGTH = 200;
    static final int MAX_BATCH_SIZE = 10_000;
    static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
    private static final Duration ONE_DAY = Duration.ofDays(1);

    private final ProcessorStorage<T> storage;
    private final Publisher publisher;
    private String processorId;
    private int batchSize = 100;
    private Duration claimDuration = Duration.ofSeconds(30);
    private Duration processInterval = Duration.ofSeconds(1);
    private Duration busyInterval = Duration.ofMillis(20);
    private Integer maxAttempts; // null: unlimited
    private Duration retryBackoffInitial = Duration.ofSeconds(1);
    private Duration retryBackoffMax = Duration.ofMinutes(5);
    private double retryJitter = 0.2;
    private Duration errorBackoffInitial = Duration.ofMillis(100);
    private Duration errorBackoffMax = Duration.ofSeconds(30);
    private int maxMessageBytes = 1024 * 1024;
    private Duration shutdownTimeout = Duration.ofSeconds(10);
    private Duration publishTimeout = Duration.ofMinutes(2);
    private Clock clock; // null: a wall clock of the outbox's own
    private boolean clockSet;
    private final List<OutboxListener> listeners = new ArrayList<>();
    private final List<String> listenerErrors = new ArrayList<>();
    private ThreadFactory threadFactory = Executors.defaultThreadFactory();
    private RandomGenerator random = RandomGenerator.getDefault();
    private final List<UnaryOperator<Message>> writeDecorators = new ArrayList<>();

    private Builder(ProcessorStorage<T> storage, Publisher publisher) {
      this.storage = storage;
      this.publisher = publisher;
    }

    /** This processor's name in claims; unique per running outbox. */
    public Builder<T> processorId(String processorId) {
      this.processorId = processorId;
      return this;
    }

    /** The most entries claimed and published at once. */
    public Builder<T> batchSize(int batchSize) {
      this.batchSize = batchSize;
      return this;
    }

    /**
     * How long a claim lasts. A processor that dies holding a batch delays it by this much; a batch
     * whose publishing takes longer than half of it has its claim renewed.
     */
    public Builder<T> claimDuration(Duration claimDuration) {
      this.claimDuration = claimDuration;
      return this;
    }

    /** How long the loop waits between passes when nothing wakes it. */
    public Builder<T> processInterval(Duration processInterval) {
      this.processInterval = processInterval;
      return this;
    }

    /**
     * How long the loop waits between passes while it is busy, instead of {@code processInterval}
     * (the shorter of the two applies). The loop is busy from a pass that found entries until three
     * passes in a row found none. A busy outbox keeps latency low without relying on wake-ups; an
     * idle one polls at {@code processInterval}. {@link Duration#ZERO} turns it off.
     */
    public Builder<T> busyInterval(Duration busyInterval) {
      this.busyInterval = busyInterval;
      return this;
    }

    /**
     * Failed attempts after which an entry moves to the dead letters. The default is unlimited: an
     * entry is retried (with backoff) until it is published.
     */
    public Builder<T> maxAttempts(int maxAttempts) {
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** Retries an entry until it is published (the default). */
    public Builder<T> unlimitedAttempts() {
      this.maxAttempts = null;
      return this;
    }

    /** The wait after an entry's first failure, doubling per failure up to {@code max}. */
    public Builder<T> retryBackoff(Duration initial, Duration max) {
      this.retryBackoffInitial = initial;
      this.retryBackoffMax = max;
      return this;
    }

    /** The fraction of each retry wait that is randomised (shortened), 0 to 1. */
    public Builder<T> retryJitter(double retryJitter) {
      this.retryJitter = retryJitter;
      return this;
    }

    /** The loop's wait after a failed pass, doubling per failure up to {@code max}. */
    public Builder<T> errorBackoff(Duration initial, Duration max) {
      this.errorBackoffInitial = initial;
      this.errorBackoffMax = max;
      return this;
    }

    /** The largest message (see {@link Message#sizeInBytes()}) that {@link #publish} accepts. */
    public Builder<T> maxMessageBytes(int maxMessageBytes) {
      this.maxMessageBytes = maxMessageBytes;
      return this;
    }

    /** How long {@link #close()} waits for the batch in hand before interrupting the loop. */
    public Builder<T> shutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
      return this;
    }

    /**
     * The longest a publisher call may take. A call still running then is interrupted and
     * abandoned, its lease renewals stop, and its batch is given back uncharged (as in a broker
     * outage) for a later attempt; whatever the call returns afterwards is ignored.
     */
    public Builder<T> publishTimeout(Duration publishTimeout) {
      this.publishTimeout = publishTimeout;
      return this;
    }

    /**
     * The source of time; the testkit's {@code FakeClock} in tests. By default (and for {@link
     * Clock#system()}) the outbox uses a wall clock of its own whose thread ends with {@code
     * close()}.
     */
    public Builder<T> clock(Clock clock) {
      this.clock = clock;
      this.clockSet = true;
      return this;
    }

    /**
     * Adds a listener; call again to add more. Every listener hears every event, in the order they
     * were added; see {@link OutboxListener}.
     */
    public Builder<T> listener(OutboxListener listener) {
      if (listener == null) {
        listenerErrors.add("listener must not be null (leave it out, or use OutboxListener.NOOP)");
      } else {
        listeners.add(listener);
      }
      return this;
    }

    /** Makes the loop's and the lease renewal's threads. */
    public Builder<T> threadFactory(ThreadFactory threadFactory) {
      this.threadFactory = threadFactory;
      return this;
    }

    /**
     * Adds a function that {@link Outbox#publish} applies to every message before it checks and
     * writes it, inside the caller's transaction and on the caller's thread: the place to add
     * headers from the caller's context, such as trace context (the {@code outbox-opentelemetry}
     * module does). Call again to add more; they apply in the order added. A decorator must return
     * a message (never null); whatever it throws reaches the caller of {@code publish}.
     */
    public Builder<T> decorateMessages(UnaryOperator<Message> decorator) {
      if (decorator == null) {
        listenerErrors.add("a message decorator must not be null");
      } else {
        writeDecorators.add(decorator);
      }
      return this;
    }

    /** The source of jitter; a seeded generator makes backoffs repeatable in tests. */
    public Builder<T> random(RandomGenerator random) {
      this.random = random;
      return this;
    }

    /**
     * Builds the outbox.
     *
     * @throws IllegalArgumentException listing every invalid setting with its allowed range
     */
    public Outbox<T> build() {
      List<String> errors = new ArrayList<>();
      if (storage == null) {
        errors.add("storage must not be null");
      }
      if (publisher == null) {
        errors.add("publisher must not be null");
      }
      if (clockSet && clock == null) {
        errors.add("clock must not be null");
      }
      errors.addAll(listenerErrors);
      if (threadFactory == null) {
        errors.add("threadFactory must not be null");
      }
      if (random == null) {
        errors.add("random must not be null");
      }
      String id = processorId == null ? defaultProcessorId() : processorId;
      if (id.isBlank() || id.length() > MAX_PROCESSOR_ID_LENGTH) {
        errors.add(
            "processorId is '"
                + id
                + "'; it must be 1 to "
                + MAX_PROCESSOR_ID_LENGTH
                + " characters and not blank");
      }
      if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
        errors.add("batchSize is " + batchSize + "; allowed 1 to " + MAX_BATCH_SIZE);
      }
      checkRange(errors, "claimDuration", claimDuration, Duration.ofMillis(100), ONE_DAY);
      checkRange(errors, "processInterval", processInterval, Duration.ofMillis(1), ONE_DAY);
      checkRange(errors, "busyInterval", busyInterval, Duration.ZERO, ONE_DAY);
      if (maxAttempts != null && maxAttempts < 1) {
        errors.add(
            "maxAttempts is " + maxAttempts + "; allowed 1 or more (or unlimitedAttempts())");
      }
      if (maxAttempts != null && storage != null && !(storage instanceof DeadLetterStorage)) {
        errors.add(
            "maxAttempts is "
                + maxAttempts
                + " but "
                + storage.getClass().getName()
                + " keeps no dead letters (it is no DeadLetterStorage); use unlimitedAttempts() or"
                + " a storage that does");
      }
      checkRange(errors, "retryBackoff initial", retryBackoffInitial, Duration.ZERO, ONE_DAY);
      checkRange(errors, "retryBackoff max", retryBackoffMax, Duration.ZERO, ONE_DAY);
      if (retryBackoffInitial != null
          && retryBackoffMax != null
          && retryBackoffMax.compareTo(retryBackoffInitial) < 0) {
        errors.add(
            "retryBackoff max ("
                + retryBackoffMax
                + ") is less than its initial value ("
                + retryBackoffInitial
                + ")");
      }
      if (!(retryJitter >= 0 && retryJitter <= 1)) {
        errors.add("retryJitter is " + retryJitter + "; allowed 0 to 1");
      }
      checkRange(
          errors, "errorBackoff initial", errorBackoffInitial, Duration.ofMillis(1), ONE_DAY);
      checkRange(errors, "errorBackoff max", errorBackoffMax, Duration.ofMillis(1), ONE_DAY);
      if (errorBackoffInitial != null
          && errorBackoffMax != null
          && errorBackoffMax.compareTo(errorBackoffInitial) < 0) {
        errors.add(
            "errorBackoff max ("
                + errorBackoffMax
                + ") is less than its initial value ("
                + errorBackoffInitial
                + ")");
      }
      if (maxMessageBytes < 1 || maxMessageBytes > MAX_MESSAGE_BYTES) {
        errors.add("maxMessageBytes is " + maxMessageBytes + "; allowed 1 to " + MAX_MESSAGE_BYTES);
      }
      checkRange(errors, "shutdownTimeout", shutdownTimeout, Duration.ZERO, Duration.ofHours(1));
      checkRange(errors, "publishTimeout", publishTimeout, Duration.ofMillis(100), ONE_DAY);
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(
            "Invalid outbox configuration: " + String.join("; ", errors));
      }
      OutboxConfig config =
          new OutboxConfig(
              id,
              batchSize,
              claimDuration,
              processInterval,
              busyInterval,
              maxAttempts == null ? 0 : maxAttempts,
              retryBackoffInitial,
              retryBackoffMax,
              retryJitter,
              errorBackoffInitial,
              errorBackoffMax,
              maxMessageBytes,
              shutdownTimeout,
              publishTimeout);
      return new Outbox<>(this, config);
    }

    private static void checkRange(
        List<String> errors, String name, Duration value, Duration min, Duration max) {
      if (value == null) {
        errors.add(name + " must not be null");
      } else if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
        errors.add(name + " is " + value + "; allowed " + min + " to " + max);
      }
    }
  }
}
