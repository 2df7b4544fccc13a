package dev.outbox.micrometer;

import dev.outbox.ClaimedEntry;
import dev.outbox.Clock;
import dev.outbox.FailedEntry;
import dev.outbox.Ordering;
import dev.outbox.Outbox;
import dev.outbox.OutboxListener;
import dev.outbox.OutboxStats;
import dev.outbox.Publisher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Micrometer meters for one {@link Outbox}: counters of what happened to messages, timers of
 * batches and publisher calls, the write-to-publish latency, and backlog gauges read from a cached
 * {@link Outbox#stats()} snapshot, so a scrape never touches the database.
 *
 * <pre>{@code
 * OutboxMetrics metrics = OutboxMetrics.builder(registry, "orders").build();
 * Outbox<Handle> outbox =
 *     Outbox.builder(storage, metrics.instrument(publisher)) // publish timer, failure kinds
 *         .listener(metrics)                                // counters, batch timer, latency
 *         .build();
 * metrics.monitor(outbox);                                  // backlog gauges, stats refresher
 * ...
 * outbox.close();
 * metrics.close();                                          // stops the refresher, drops gauges
 * }</pre>
 *
 * <p>It is an {@link OutboxListener} beside any others (tracing, your own): listeners never wrap
 * each other. Every meter, its type, tags and meaning are listed in the README ("Metrics").
 *
 * <p>Time comes from the {@link Clock} given to the builder (give it the outbox's clock: the
 * testkit's {@code FakeClock} in tests), so latencies, timers and the stats refresh interval are
 * deterministic under test.
 *
 * <p>Thread-safe.
 */
public final class OutboxMetrics implements OutboxListener, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(OutboxMetrics.class);

  /** The namespace tag value of every namespace past {@link Builder#maxNamespaceTags}. */
  public static final String OTHER_NAMESPACE = "_other";

  static final String OUTBOX = "outbox";
  static final String NAMESPACE = "namespace";

  /** Meters that are per namespace, made when a namespace is first seen. */
  private record NamespaceMeters(
      Counter published,
      Counter failedRetryable,
      Counter failedPermanent,
      Counter deadLettered,
      Counter released,
      Timer latency) {}

  /** The last successful stats() snapshot and when it was taken. */
  private record Snapshot(OutboxStats stats, long blockedKeys, Instant at) {}

  /** The most blocked keys counted per refresh; the gauge shows at most this. */
  static final int MAX_BLOCKED_KEYS_COUNTED = 10_000;

  private final MeterRegistry registry;
  private final String name;
  private final Clock clock;
  private final Duration refreshInterval;
  private final int maxNamespaceTags;
  private final boolean latencyHistogram;
  private final ThreadFactory threadFactory;
  private final Tags tags;

  private final Map<String, NamespaceMeters> byNamespace = new ConcurrentHashMap<>();
  private final NamespaceMeters untagged; // when maxNamespaceTags is 0
  private volatile NamespaceMeters other; // past maxNamespaceTags, made when first needed
  private final AtomicBoolean namespaceCapWarned = new AtomicBoolean();
  // Entry ids the instrumented publisher reported as permanent failures, read by onFailed and
  // onDeadLettered of the same batch and cleared by onBatch.
  private final Set<Long> permanentIds = ConcurrentHashMap.newKeySet();
  private volatile boolean publisherInstrumented;
  private volatile int maxAttempts; // from the monitored outbox; 0: unknown or unlimited

  private final Timer batchDuration;
  private final Counter leaseRenewed;
  private final Counter leaseLost;
  private final Counter loopErrors;
  private final Counter refreshFailures;

  private final Object lifecycle = new Object();
  private final List<Meter> gauges = new ArrayList<>();
  private Outbox<?> outbox; // guarded by lifecycle
  private Thread refresher; // guarded by lifecycle
  private volatile CompletableFuture<Void> refreshWait;
  private volatile Snapshot snapshot;
  private volatile boolean closed;

  private OutboxMetrics(Builder b) {
    this.registry = b.registry;
    this.name = b.name;
    this.clock = b.clock;
    this.refreshInterval = b.statsRefreshInterval;
    this.maxNamespaceTags = b.maxNamespaceTags;
    this.latencyHistogram = b.latencyHistogram;
    this.threadFactory = b.threadFactory;
    this.tags = Tags.of(OUTBOX, name);
    this.untagged = maxNamespaceTags == 0 ? create(null) : null;
    this.batchDuration =
        Timer.builder("outbox.batch.duration")
            .description("Time to process one claimed batch, claim to delete")
            .tags(tags)
            .register(registry);
    this.leaseRenewed =
        Counter.builder("outbox.lease.renewals")
            .description("Entries whose claim was renewed while their batch was being published")
            .baseUnit("messages")
            .tags(tags)
            .tag("result", "renewed")
            .register(registry);
    this.leaseLost =
        Counter.builder("outbox.lease.renewals")
            .description("Entries whose claim was renewed while their batch was being published")
            .baseUnit("messages")
            .tags(tags)
            .tag("result", "lost")
            .register(registry);
    this.loopErrors =
        Counter.builder("outbox.loop.errors")
            .description("Failed passes of the processing loop (storage errors, broker outages)")
            .tags(tags)
            .register(registry);
    this.refreshFailures =
        Counter.builder("outbox.stats.refresh.failures")
            .description("Failed refreshes of the cached backlog statistics")
            .tags(tags)
            .register(registry);
  }

  /**
   * Starts building the meters of one outbox.
   *
   * @param registry where the meters go
   * @param outboxName the value of every meter's {@code outbox} tag: a name unique among the
   *     outboxes of this registry
   */
  public static Builder builder(MeterRegistry registry, String outboxName) {
    return new Builder(registry, outboxName);
  }

  /** The {@code outbox} tag's value. */
  public String outboxName() {
    return name;
  }

  /**
   * Wraps the publisher to time each call ({@code outbox.publish.duration}) and to learn which
   * failures the publisher reported as permanent ({@code outbox.messages.failed{kind=permanent}}).
   * Pass the result to {@link Outbox#builder}. Write-time checks ({@link
   * Publisher#checkDeliverable}) go to the wrapped publisher unchanged.
   */
  public Publisher instrument(Publisher publisher) {
    Objects.requireNonNull(publisher, "publisher must not be null");
    publisherInstrumented = true;
    return new TimedPublisher(publisher, this);
  }

  /**
   * Registers the gauges that read the outbox itself: {@code outbox.loop.healthy}, and when the
   * storage keeps statistics ({@link Outbox#supportsStats()}) the backlog gauges, which read a
   * snapshot that a thread of this object refreshes at once and then every {@code
   * statsRefreshInterval} on the clock. Call once, after building the outbox.
   *
   * @throws IllegalStateException when called twice or after {@link #close()}
   */
  public OutboxMetrics monitor(Outbox<?> outbox) {
    Objects.requireNonNull(outbox, "outbox must not be null");
    synchronized (lifecycle) {
      if (closed) {
        throw new IllegalStateException("OutboxMetrics " + name + " is closed");
      }
      if (this.outbox != null) {
        throw new IllegalStateException(
            "OutboxMetrics " + name + " already monitors outbox " + this.outbox.processorId());
      }
      this.outbox = outbox;
      this.maxAttempts = outbox.config().maxAttempts();
      gauges.add(
          Gauge.builder("outbox.loop.healthy", outbox, o -> o.health().isHealthy() ? 1 : 0)
              .description("1 while the processing loop is started and running, else 0")
              .tags(tags)
              .strongReference(true)
              .register(registry));
      if (!outbox.supportsStats()) {
        log.info(
            "outbox {}: the storage keeps no statistics; no backlog gauges are registered", name);
        return this;
      }
      gauges.add(
          statGauge(
              "outbox.entries.pending",
              "Messages written and not yet published",
              OutboxStats::pending));
      gauges.add(
          statGauge(
              "outbox.entries.claimed", "Messages under an unexpired claim", OutboxStats::claimed));
      gauges.add(
          statGauge(
              "outbox.entries.failing",
              "Pending messages whose publishing failed at least once",
              OutboxStats::failing));
      gauges.add(
          statGauge(
              "outbox.dead.letters", "Messages in the dead letters", OutboxStats::deadLetters));
      gauges.add(
          TimeGauge.builder(
                  "outbox.oldest.pending.age",
                  this,
                  TimeUnit.SECONDS,
                  m -> m.fromSnapshot(s -> seconds(s.oldestPendingAge())))
              .description("How long the oldest pending message has waited, as of the last refresh")
              .tags(tags)
              .strongReference(true)
              .register(registry));
      if (outbox.ordering() == Ordering.BY_KEY_BLOCKING && outbox.supportsDeadLetters()) {
        gauges.add(
            Gauge.builder("outbox.keys.blocked", this, m -> m.blockedKeys())
                .description(
                    "Keys held back by a dead letter (ordering BY_KEY_BLOCKING), counted up to "
                        + MAX_BLOCKED_KEYS_COUNTED
                        + "; an operator requeues or purges their dead letters")
                .baseUnit("keys")
                .tags(tags)
                .strongReference(true)
                .register(registry));
      }
      gauges.add(
          TimeGauge.builder("outbox.stats.age", this, TimeUnit.SECONDS, OutboxMetrics::statsAge)
              .description("Time since the backlog gauges were last refreshed")
              .tags(tags)
              .strongReference(true)
              .register(registry));
      Thread t = threadFactory.newThread(this::refreshLoop);
      t.setName("outbox-metrics-" + name);
      t.setDaemon(true);
      refresher = t;
      t.start();
    }
    return this;
  }

  private Gauge statGauge(String meter, String description, ToDoubleFunction<OutboxStats> f) {
    return Gauge.builder(meter, this, m -> m.fromSnapshot(f))
        .description(description)
        .baseUnit("messages")
        .tags(tags)
        .strongReference(true)
        .register(registry);
  }

  private double fromSnapshot(ToDoubleFunction<OutboxStats> f) {
    Snapshot s = snapshot;
    return s == null ? Double.NaN : f.applyAsDouble(s.stats());
  }

  private double blockedKeys() {
    Snapshot s = snapshot;
    return s == null ? Double.NaN : s.blockedKeys();
  }

  private double statsAge() {
    Snapshot s = snapshot;
    return s == null ? Double.NaN : seconds(Duration.between(s.at(), clock.now()));
  }

  private static double seconds(Duration d) {
    return d.isNegative() ? 0 : d.toNanos() / 1e9;
  }

  private void refreshLoop() {
    while (!closed) {
      refreshStats();
      CompletableFuture<Void> wait = clock.after(refreshInterval);
      refreshWait = wait;
      if (closed) {
        wait.cancel(false);
        return;
      }
      try {
        wait.get();
      } catch (InterruptedException e) {
        return;
      } catch (CancellationException | ExecutionException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  /**
   * Reads {@link Outbox#stats()} now and keeps it for the backlog gauges. The refresher thread
   * calls it every {@code statsRefreshInterval}; call it yourself for fresh figures (before a final
   * report, say). A failure is logged, counted in {@code outbox.stats.refresh.failures}, and leaves
   * the previous snapshot in place ({@code outbox.stats.age} shows how old it is).
   *
   * @return whether the refresh succeeded
   * @throws IllegalStateException when no outbox is monitored
   */
  public boolean refreshStats() {
    Outbox<?> o;
    synchronized (lifecycle) {
      o = outbox;
    }
    if (o == null) {
      throw new IllegalStateException("OutboxMetrics " + name + " monitors no outbox yet");
    }
    try {
      OutboxStats stats = o.stats();
      long blocked =
          o.ordering() == Ordering.BY_KEY_BLOCKING && o.supportsDeadLetters()
              ? o.deadLetters().blockedKeys(MAX_BLOCKED_KEYS_COUNTED).size()
              : 0;
      snapshot = new Snapshot(stats, blocked, clock.now());
      return true;
    } catch (RuntimeException e) {
      refreshFailures.increment();
      log.warn("outbox {}: refreshing the backlog statistics failed; keeping the last", name, e);
      return false;
    }
  }

  /** The snapshot the backlog gauges show, or {@code null} before the first refresh. */
  public OutboxStats lastStats() {
    Snapshot s = snapshot;
    return s == null ? null : s.stats();
  }

  /**
   * Stops the stats refresher (waiting for it to end) and removes the gauges from the registry, so
   * nothing reports a backlog that is no longer watched. Counters and timers stay, with their final
   * values. Calling it again does nothing.
   */
  @Override
  public void close() {
    Thread t;
    List<Meter> toRemove;
    synchronized (lifecycle) {
      if (closed) {
        return;
      }
      closed = true;
      t = refresher;
      toRemove = new ArrayList<>(gauges);
      gauges.clear();
    }
    CompletableFuture<Void> wait = refreshWait;
    if (wait != null) {
      wait.cancel(false);
    }
    if (t != null) {
      t.interrupt();
      try {
        t.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (t.isAlive()) {
        log.warn("outbox {}: the metrics refresher did not stop within 10 s", name);
      }
    }
    for (Meter m : toRemove) {
      registry.remove(m);
    }
  }

  /** Whether the refresher thread is alive; for tests of {@link #close()}. */
  boolean refresherAlive() {
    synchronized (lifecycle) {
      return refresher != null && refresher.isAlive();
    }
  }

  // ---- publisher calls (from TimedPublisher) ----

  Clock clock() {
    return clock;
  }

  Timer publishTimer(String outcome) {
    return Timer.builder("outbox.publish.duration")
        .description("Time of one publisher call, by outcome")
        .tags(tags)
        .tag("outcome", outcome)
        .register(registry);
  }

  void permanentFailure(long entryId) {
    permanentIds.add(entryId);
  }

  // ---- listener ----

  @Override
  public void onPublished(List<ClaimedEntry> entries) {
    Instant now = clock.now();
    for (ClaimedEntry e : entries) {
      NamespaceMeters m = meters(e.message().namespace());
      m.published().increment();
      Duration latency = Duration.between(e.createdAt(), now);
      // A writer whose clock ran ahead of ours: the latency is unknown but small; count it as 0.
      m.latency().record(latency.isNegative() ? Duration.ZERO : latency);
    }
  }

  @Override
  public void onFailed(ClaimedEntry entry, FailedEntry failure, Throwable cause) {
    NamespaceMeters m = meters(entry.message().namespace());
    // Without a dead-letter store a permanent failure is retried, and comes here.
    (permanentIds.remove(entry.id()) ? m.failedPermanent() : m.failedRetryable()).increment();
  }

  @Override
  public void onDeadLettered(ClaimedEntry entry, FailedEntry failure, Throwable cause) {
    NamespaceMeters m = meters(entry.message().namespace());
    boolean permanent;
    if (publisherInstrumented) {
      permanent = permanentIds.remove(entry.id());
    } else {
      // Not told by the publisher: an entry dead-lettered before its attempts ran out was
      // permanent; one at its last attempt counts as retryable (exhausted).
      int max = maxAttempts;
      permanent = max == 0 || failure.attempts() < max;
    }
    (permanent ? m.failedPermanent() : m.failedRetryable()).increment();
    m.deadLettered().increment();
  }

  @Override
  public void onReleased(List<ClaimedEntry> entries, Throwable cause) {
    for (ClaimedEntry e : entries) {
      meters(e.message().namespace()).released().increment();
    }
  }

  @Override
  public void onBatch(int claimed, int published, int failed, int deadLettered, Duration took) {
    batchDuration.record(took.isNegative() ? Duration.ZERO : took);
    permanentIds.clear();
  }

  @Override
  public void onLeaseRenewed(int requested, int renewed) {
    leaseRenewed.increment(renewed);
    leaseLost.increment(Math.max(0, requested - renewed));
  }

  @Override
  public void onPumpError(Throwable error, Duration backoff) {
    loopErrors.increment();
  }

  private NamespaceMeters meters(String namespace) {
    if (maxNamespaceTags == 0) {
      return untagged;
    }
    NamespaceMeters m = byNamespace.get(namespace);
    if (m != null) {
      return m;
    }
    if (byNamespace.size() >= maxNamespaceTags) {
      if (namespaceCapWarned.compareAndSet(false, true)) {
        log.warn(
            "outbox {}: more than {} namespaces; meters of namespace '{}' and any further ones are"
                + " tagged namespace={} (raise maxNamespaceTags to tell them apart)",
            name,
            maxNamespaceTags,
            namespace,
            OTHER_NAMESPACE);
      }
      NamespaceMeters o = other;
      if (o == null) {
        synchronized (byNamespace) {
          o = other;
          if (o == null) {
            o = create(OTHER_NAMESPACE);
            other = o;
          }
        }
      }
      return o;
    }
    return byNamespace.computeIfAbsent(namespace, this::create);
  }

  private NamespaceMeters create(String namespaceTag) {
    Tags t = namespaceTag == null ? tags : tags.and(NAMESPACE, namespaceTag);
    return new NamespaceMeters(
        counter("outbox.messages.published", "Messages the broker accepted", t),
        Counter.builder("outbox.messages.failed")
            .description("Charged publish failures, by kind")
            .baseUnit("messages")
            .tags(t)
            .tag("kind", "retryable")
            .register(registry),
        Counter.builder("outbox.messages.failed")
            .description("Charged publish failures, by kind")
            .baseUnit("messages")
            .tags(t)
            .tag("kind", "permanent")
            .register(registry),
        counter("outbox.messages.dead.lettered", "Messages moved to the dead letters", t),
        counter(
            "outbox.messages.released",
            "Messages given back uncharged because the publisher delivered nothing (outage)",
            t),
        Timer.builder("outbox.messages.latency")
            .description("Time from a message's write to the broker's acceptance of it")
            .tags(t)
            .publishPercentileHistogram(latencyHistogram)
            .register(registry));
  }

  private Counter counter(String meter, String description, Tags t) {
    return Counter.builder(meter)
        .description(description)
        .baseUnit("messages")
        .tags(t)
        .register(registry);
  }

  /** Builds an {@link OutboxMetrics}; {@link #build()} names every bad setting. */
  public static final class Builder {
    private final MeterRegistry registry;
    private final String name;
    private Clock clock = Clock.system();
    private Duration statsRefreshInterval = Duration.ofSeconds(15);
    private int maxNamespaceTags = 100;
    private boolean latencyHistogram = true;
    private ThreadFactory threadFactory = Executors.defaultThreadFactory();

    private Builder(MeterRegistry registry, String name) {
      this.registry = registry;
      this.name = name;
    }

    /**
     * The source of time for latencies, timers and the refresh interval; give it the outbox's
     * clock. Defaults to {@link Clock#system()}.
     */
    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /**
     * How often the backlog gauges' snapshot is refreshed from {@link Outbox#stats()} (one storage
     * query each time): 100 ms to 1 day, default 15 s.
     */
    public Builder statsRefreshInterval(Duration interval) {
      this.statsRefreshInterval = interval;
      return this;
    }

    /**
     * The most distinct {@code namespace} tag values (default 100); messages of further namespaces
     * are counted under {@value OutboxMetrics#OTHER_NAMESPACE}, and a warning says so once. 0
     * leaves the namespace tag out altogether.
     */
    public Builder maxNamespaceTags(int max) {
      this.maxNamespaceTags = max;
      return this;
    }

    /**
     * Whether {@code outbox.messages.latency} publishes a percentile histogram (buckets), for
     * percentiles aggregated across instances; default true.
     */
    public Builder latencyHistogram(boolean enabled) {
      this.latencyHistogram = enabled;
      return this;
    }

    /** Makes the stats refresher's thread (named {@code outbox-metrics-<name>}, a daemon). */
    public Builder threadFactory(ThreadFactory threadFactory) {
      this.threadFactory = threadFactory;
      return this;
    }

    /**
     * Builds the meters and registers those that exist whatever happens (batch timer, lease,
     * loop-error and refresh-failure counters).
     *
     * @throws IllegalArgumentException listing every invalid setting
     */
    public OutboxMetrics build() {
      List<String> errors = new ArrayList<>();
      if (registry == null) {
        errors.add("registry must not be null");
      }
      if (name == null || name.isBlank()) {
        errors.add("outboxName must not be null or blank");
      }
      if (clock == null) {
        errors.add("clock must not be null");
      }
      if (threadFactory == null) {
        errors.add("threadFactory must not be null");
      }
      if (statsRefreshInterval == null) {
        errors.add("statsRefreshInterval must not be null");
      } else if (statsRefreshInterval.compareTo(Duration.ofMillis(100)) < 0
          || statsRefreshInterval.compareTo(Duration.ofDays(1)) > 0) {
        errors.add("statsRefreshInterval is " + statsRefreshInterval + "; allowed PT0.1S to P1D");
      }
      if (maxNamespaceTags < 0) {
        errors.add("maxNamespaceTags is " + maxNamespaceTags + "; allowed 0 or more");
      }
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(
            "Invalid OutboxMetrics configuration: " + String.join("; ", errors));
      }
      return new OutboxMetrics(this);
    }
  }
}
