package dev.outbox.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.Publisher;
import dev.outbox.PumpResult;
import dev.outbox.micrometer.ScriptedPublisher.Mode;
import dev.outbox.testkit.FakeClock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * OutboxMetrics on a real {@link Outbox} over FakeClock: every meter's value after each step of
 * publish, failure, dead letter, outage and backlog.
 */
class OutboxMetricsTest {

  private static final Object TXN = new Object();
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Duration REFRESH = Duration.ofSeconds(10);

  private final FakeClock clock = new FakeClock();
  private final Instant t0 = clock.now();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final CountingStorage storage = new CountingStorage();
  private final ScriptedPublisher publisher = new ScriptedPublisher(clock);
  private OutboxMetrics metrics;
  private Outbox<Object> outbox;

  @AfterEach
  void tearDown() {
    if (outbox != null) {
      outbox.close();
    }
    if (metrics != null) {
      metrics.close();
    }
  }

  private OutboxMetrics.Builder metricsBuilder() {
    return OutboxMetrics.builder(registry, "orders").clock(clock).statsRefreshInterval(REFRESH);
  }

  private Outbox.Builder<Object> outboxBuilder(Publisher p) {
    return Outbox.builder(storage, p)
        .processorId("p1")
        .clock(clock)
        .batchSize(10)
        .claimDuration(Duration.ofSeconds(30))
        .maxAttempts(2)
        .retryBackoff(Duration.ofSeconds(1), Duration.ofSeconds(60))
        .retryJitter(0)
        .random(new SplittableRandom(1));
  }

  private void publish(String namespace, String... payloads) {
    for (String p : payloads) {
      outbox.publish(TXN, Message.builder().namespace(namespace).payload(p).build());
    }
  }

  /** Every meter of the registry, as "name{tags}" to its value(s), sorted. */
  private Map<String, String> meters() {
    Map<String, String> all = new TreeMap<>();
    for (Meter m : registry.getMeters()) {
      String tags =
          m.getId().getTags().stream()
              .map(t -> t.getKey() + "=" + t.getValue())
              .collect(Collectors.joining(","));
      all.put(m.getId().getName() + "{" + tags + "}", describe(m));
    }
    return all;
  }

  private static String describe(Meter m) {
    if (m instanceof Counter c) {
      return num(c.count());
    }
    if (m instanceof FunctionCounter c) {
      return num(c.count());
    }
    if (m instanceof Timer t) {
      return "count="
          + t.count()
          + " total="
          + Duration.ofNanos(Math.round(t.totalTime(TimeUnit.NANOSECONDS)));
    }
    if (m instanceof TimeGauge g) {
      return num(g.value(TimeUnit.SECONDS)) + "s";
    }
    if (m instanceof Gauge g) {
      return num(g.value());
    }
    throw new AssertionError("unexpected meter type " + m);
  }

  private static String num(double v) {
    return String.format(Locale.ROOT, "%.3f", v);
  }

  private static String timer(int count, String total) {
    return "count=" + count + " total=" + total;
  }

  /** The meters that exist before any message: fixed ones and the monitor's gauges. */
  private static Map<String, String> base(
      String batch,
      String success,
      String partial,
      String failure,
      String pending,
      String claimed,
      String failing,
      String dead,
      String oldest,
      String statsAge) {
    Map<String, String> m = new TreeMap<>();
    m.put("outbox.batch.duration{outbox=orders}", batch);
    m.put("outbox.publish.duration{outbox=orders,outcome=success}", success);
    m.put("outbox.publish.duration{outbox=orders,outcome=partial_failure}", partial);
    m.put("outbox.publish.duration{outbox=orders,outcome=failure}", failure);
    m.put("outbox.lease.renewals{outbox=orders,result=renewed}", "0.000");
    m.put("outbox.lease.renewals{outbox=orders,result=lost}", "0.000");
    m.put("outbox.loop.errors{outbox=orders}", "0.000");
    m.put("outbox.stats.refresh.failures{outbox=orders}", "0.000");
    m.put("outbox.loop.healthy{outbox=orders}", "0.000");
    m.put("outbox.entries.pending{outbox=orders}", pending);
    m.put("outbox.entries.claimed{outbox=orders}", claimed);
    m.put("outbox.entries.failing{outbox=orders}", failing);
    m.put("outbox.dead.letters{outbox=orders}", dead);
    m.put("outbox.oldest.pending.age{outbox=orders}", oldest);
    m.put("outbox.stats.age{outbox=orders}", statsAge);
    return m;
  }

  private static void namespace(
      Map<String, String> m,
      String ns,
      String published,
      String retryable,
      String permanent,
      String dead,
      String released,
      String latency) {
    String t = "namespace=" + ns + ",outbox=orders";
    m.put("outbox.messages.published{" + t + "}", published);
    m.put("outbox.messages.failed{kind=retryable," + t + "}", retryable);
    m.put("outbox.messages.failed{kind=permanent," + t + "}", permanent);
    m.put("outbox.messages.dead.lettered{" + t + "}", dead);
    m.put("outbox.messages.released{" + t + "}", released);
    m.put("outbox.messages.latency{" + t + "}", latency);
  }

  private void advanceTo(Instant time) {
    clock.set(time);
  }

  @Test
  void everyMeterThroughPublishFailureDeadLetterOutageAndBacklog() {
    metrics = metricsBuilder().build();
    outbox = outboxBuilder(metrics.instrument(publisher)).listener(metrics).build();
    publisher.callTime = Duration.ofMillis(40);
    metrics.monitor(outbox);
    clock.awaitWaiters(1, WAIT); // the first refresh is done; the refresher waits for t0 + 10 s
    assertThat(storage.statsCalls).hasValue(1);
    String none = timer(0, "PT0S");
    assertThat(meters())
        .isEqualTo(
            base(none, none, none, none, "0.000", "0.000", "0.000", "0.000", "0.000s", "0.000s"));

    // Backlog: 3 orders at t0, 2 invoices at t0 + 4 s. Scrapes read the cached snapshot only.
    publish("orders", "o-0", "o-1", "o-2");
    advanceTo(t0.plusSeconds(4));
    publish("invoices", "i-0", "i-1");
    for (int i = 0; i < 50; i++) {
      meters();
    }
    assertThat(storage.statsCalls).as("a scrape never queries the storage").hasValue(1);
    assertThat(meters())
        .isEqualTo(
            base(none, none, none, none, "0.000", "0.000", "0.000", "0.000", "0.000s", "4.000s"));

    advanceTo(t0.plus(REFRESH)); // the refresher's interval is up
    clock.awaitWaiters(1, WAIT);
    assertThat(storage.statsCalls).hasValue(2);
    assertThat(meters())
        .isEqualTo(
            base(none, none, none, none, "5.000", "0.000", "0.000", "0.000", "10.000s", "0.000s"));

    // A retryable failure in a batch that delivered the others: charged. Each call takes 40 ms.
    publisher.modes.put("o-1", Mode.RETRYABLE);
    assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(5, 4, 1, 0, 0));
    Map<String, String> expected =
        base(
            timer(1, "PT0.04S"),
            none,
            timer(1, "PT0.04S"),
            none,
            "5.000",
            "0.000",
            "0.000",
            "0.000",
            "10.000s",
            "0.040s");
    // latency: o-0 and o-2 written at t0, i-0 and i-1 at t0 + 4 s, accepted at t0 + 10.04 s
    namespace(
        expected, "orders", "2.000", "1.000", "0.000", "0.000", "0.000", timer(2, "PT20.08S"));
    namespace(
        expected, "invoices", "2.000", "0.000", "0.000", "0.000", "0.000", timer(2, "PT12.08S"));
    assertThat(meters()).isEqualTo(expected);

    // o-1 fails again (its second charged attempt of maxAttempts 2) while i-2 goes through and
    // i-3 is refused for good: both dead-lettered, one exhausted, one permanent.
    advanceTo(clock.now().plusSeconds(1)); // o-1's retry backoff
    publish("invoices", "i-2", "i-3");
    publisher.modes.put("i-3", Mode.PERMANENT);
    assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(3, 1, 0, 2, 0));
    expected =
        base(
            timer(2, "PT0.08S"),
            none,
            timer(2, "PT0.08S"),
            none,
            "5.000",
            "0.000",
            "0.000",
            "0.000",
            "10.000s",
            "1.080s");
    namespace(
        expected, "orders", "2.000", "2.000", "0.000", "1.000", "0.000", timer(2, "PT20.08S"));
    namespace(
        expected, "invoices", "3.000", "0.000", "1.000", "1.000", "0.000", timer(3, "PT12.12S"));
    assertThat(meters()).isEqualTo(expected);

    // An outage: the publisher throws for a single-entry batch; released uncharged.
    publish("orders", "o-3");
    publisher.outage = new IllegalStateException("broker down");
    assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(1, 0, 0, 0, 1));
    expected =
        base(
            timer(3, "PT0.12S"),
            none,
            timer(2, "PT0.08S"),
            timer(1, "PT0.04S"),
            "5.000",
            "0.000",
            "0.000",
            "0.000",
            "10.000s",
            "1.120s");
    namespace(
        expected, "orders", "2.000", "2.000", "0.000", "1.000", "1.000", timer(2, "PT20.08S"));
    namespace(
        expected, "invoices", "3.000", "0.000", "1.000", "1.000", "0.000", timer(3, "PT12.12S"));
    assertThat(meters()).isEqualTo(expected);

    // The next refresh shows the backlog as it is now: o-3 waiting since t0 + 11.08 s, 2 dead.
    publisher.outage = null;
    advanceTo(t0.plus(REFRESH).plus(REFRESH));
    clock.awaitWaiters(1, WAIT);
    assertThat(storage.statsCalls).hasValue(3);
    expected =
        base(
            timer(3, "PT0.12S"),
            none,
            timer(2, "PT0.08S"),
            timer(1, "PT0.04S"),
            "1.000",
            "0.000",
            "0.000",
            "2.000",
            "8.920s",
            "0.000s");
    namespace(
        expected, "orders", "2.000", "2.000", "0.000", "1.000", "1.000", timer(2, "PT20.08S"));
    namespace(
        expected, "invoices", "3.000", "0.000", "1.000", "1.000", "0.000", timer(3, "PT12.12S"));
    assertThat(meters()).isEqualTo(expected);

    // The broker is back: o-3 goes out 8.96 s after it was written.
    assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(1, 1, 0, 0, 0));
    expected =
        base(
            timer(4, "PT0.16S"),
            timer(1, "PT0.04S"),
            timer(2, "PT0.08S"),
            timer(1, "PT0.04S"),
            "1.000",
            "0.000",
            "0.000",
            "2.000",
            "8.920s",
            "0.040s");
    namespace(
        expected, "orders", "3.000", "2.000", "0.000", "1.000", "1.000", timer(3, "PT29.04S"));
    namespace(
        expected, "invoices", "3.000", "0.000", "1.000", "1.000", "0.000", timer(3, "PT12.12S"));
    assertThat(meters()).isEqualTo(expected);
    assertThat(publisher.accepted()).containsExactly("o-0", "o-2", "i-0", "i-1", "i-2", "o-3");
  }

  @Test
  void failingEntriesShowInTheBacklogGauges() {
    metrics = metricsBuilder().build();
    outbox = outboxBuilder(metrics.instrument(publisher)).listener(metrics).build();
    metrics.monitor(outbox);
    clock.awaitWaiters(1, WAIT);
    publish("orders", "a", "b", "c");
    publisher.modes.put("b", Mode.RETRYABLE);
    assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(3, 2, 1, 0, 0));

    assertThat(metrics.refreshStats()).isTrue();

    assertThat(registry.get("outbox.entries.pending").gauge().value()).isEqualTo(1);
    assertThat(registry.get("outbox.entries.failing").gauge().value()).isEqualTo(1);
    assertThat(registry.get("outbox.entries.claimed").gauge().value()).isZero();
    assertThat(metrics.lastStats().failing()).isEqualTo(1);
  }

  @Test
  void keysHeldBackByADeadLetterAreCountedWhenOrderingBlocks() {
    metrics = metricsBuilder().build();
    outbox =
        Outbox.builder(
                new dev.outbox.testkit.InMemoryStorage<Object>(dev.outbox.Ordering.BY_KEY_BLOCKING),
                metrics.instrument(publisher))
            .processorId("p1")
            .clock(clock)
            .maxAttempts(1)
            .build();
    metrics.monitor(outbox);
    clock.awaitWaiters(1, WAIT);
    assertThat(metrics.refreshStats()).isTrue();
    assertThat(registry.get("outbox.keys.blocked").gauge().value()).isZero();
    for (String p : new String[] {"a", "b", "c"}) {
      outbox.publish(TXN, Message.builder().namespace("orders").key("k1").payload(p).build());
    }
    publisher.modes.put("a", Mode.PERMANENT);
    outbox.pumpOutbox();

    assertThat(metrics.refreshStats()).isTrue();

    assertThat(registry.get("outbox.keys.blocked").gauge().value()).isEqualTo(1);
    assertThat(outbox.deadLetters().blockedKeys(10).get(0).waiting()).isEqualTo(2);
  }

  @Test
  void theBlockedKeysGaugeExistsOnlyForBlockingOrdering() {
    metrics = metricsBuilder().build();
    outbox = outboxBuilder(metrics.instrument(publisher)).listener(metrics).build();
    metrics.monitor(outbox);
    assertThat(registry.find("outbox.keys.blocked").gauge()).isNull();
  }

  @Test
  void claimedEntriesShowWhileABatchIsInFlight() {
    metrics = metricsBuilder().build();
    outbox = outboxBuilder(metrics.instrument(publisher)).listener(metrics).build();
    metrics.monitor(outbox);
    clock.awaitWaiters(1, WAIT);
    publish("orders", "a", "b");
    double[] claimedDuringPublish = new double[1];
    publisher.during =
        () -> {
          metrics.refreshStats();
          claimedDuringPublish[0] = registry.get("outbox.entries.claimed").gauge().value();
        };

    outbox.pumpOutbox();

    assertThat(claimedDuringPublish[0]).isEqualTo(2);
  }

  @Test
  void leaseRenewalsAreCounted() {
    metrics = metricsBuilder().build();
    outbox =
        outboxBuilder(metrics.instrument(publisher))
            .claimDuration(Duration.ofSeconds(1))
            .listener(metrics)
            .build();
    publish("orders", "a", "b", "c");
    Counter renewed = registry.get("outbox.lease.renewals").tag("result", "renewed").counter();
    // The call outlives half the claim: the renewal runs on the outbox's lease thread; the call
    // returns only once it was counted.
    publisher.callTime = Duration.ofMillis(600);
    publisher.during = () -> await(() -> renewed.count() == 3, "3 renewed entries");

    assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(3, 3, 0, 0, 0));

    assertThat(renewed.count()).isEqualTo(3);
    assertThat(registry.get("outbox.lease.renewals").tag("result", "lost").counter().count())
        .isZero();
  }

  @Test
  void loopErrorsAndHealthOfARunningOutbox() {
    metrics = metricsBuilder().build();
    outbox = outboxBuilder(metrics.instrument(publisher)).listener(metrics).build();
    metrics.monitor(outbox);
    Gauge healthy = registry.get("outbox.loop.healthy").gauge();
    assertThat(healthy.value()).as("not started").isZero();
    storage.failClaims = new IllegalStateException("database down");

    outbox.start();

    Counter errors = registry.get("outbox.loop.errors").counter();
    await(() -> errors.count() >= 1, "a loop error");
    assertThat(healthy.value()).as("running, backing off").isEqualTo(1);
    outbox.close();
    assertThat(healthy.value()).as("closed").isZero();
  }

  @Test
  void aFailedRefreshKeepsTheLastSnapshotAndSaysHowOldItIs() {
    metrics = metricsBuilder().build();
    outbox = outboxBuilder(metrics.instrument(publisher)).listener(metrics).build();
    publish("orders", "a", "b");
    metrics.monitor(outbox);
    clock.awaitWaiters(1, WAIT);
    assertThat(registry.get("outbox.entries.pending").gauge().value()).isEqualTo(2);

    storage.failStats = new IllegalStateException("database down");
    clock.advance(REFRESH);
    clock.awaitWaiters(1, WAIT);

    assertThat(registry.get("outbox.stats.refresh.failures").counter().count()).isEqualTo(1);
    assertThat(registry.get("outbox.entries.pending").gauge().value()).isEqualTo(2);
    assertThat(registry.get("outbox.stats.age").timeGauge().value(TimeUnit.SECONDS)).isEqualTo(10);

    storage.failStats = null;
    publish("orders", "c");
    clock.advance(REFRESH);
    clock.awaitWaiters(1, WAIT);
    assertThat(registry.get("outbox.entries.pending").gauge().value()).isEqualTo(3);
    assertThat(registry.get("outbox.stats.age").timeGauge().value(TimeUnit.SECONDS)).isZero();
    assertThat(registry.get("outbox.oldest.pending.age").timeGauge().value(TimeUnit.SECONDS))
        .isEqualTo(20);
  }

  @Test
  void closeStopsTheRefresherAndRemovesTheGaugesButKeepsTheCounts() {
    metrics = metricsBuilder().build();
    outbox = outboxBuilder(metrics.instrument(publisher)).listener(metrics).build();
    metrics.monitor(outbox);
    clock.awaitWaiters(1, WAIT);
    assertThat(metrics.refresherAlive()).isTrue();
    publish("orders", "a");
    outbox.pumpOutbox();

    metrics.close();

    assertThat(metrics.refresherAlive()).isFalse();
    assertThat(clock.waiters()).as("the refresher's wait was cancelled").isZero();
    assertThat(registry.find("outbox.entries.pending").gauge()).isNull();
    assertThat(registry.find("outbox.loop.healthy").gauge()).isNull();
    assertThat(registry.find("outbox.oldest.pending.age").timeGauge()).isNull();
    assertThat(registry.get("outbox.messages.published").counter().count()).isEqualTo(1);
    assertThatThrownBy(() -> metrics.monitor(outbox))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    metrics.close(); // again: nothing happens
  }

  @Test
  void monitoringTwiceIsRefused() {
    metrics = metricsBuilder().build();
    outbox = outboxBuilder(publisher).listener(metrics).build();
    metrics.monitor(outbox);
    assertThatThrownBy(() -> metrics.monitor(outbox))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already monitors outbox p1");
  }

  @Test
  void refreshingWithoutAnOutboxIsRefused() {
    metrics = metricsBuilder().build();
    assertThatThrownBy(() -> metrics.refreshStats())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("monitors no outbox");
  }

  @Test
  void namespaceTagsAreBounded() {
    metrics = metricsBuilder().maxNamespaceTags(2).build();
    outbox = outboxBuilder(publisher).listener(metrics).build();
    publish("a", "1");
    publish("b", "2");
    publish("c", "3");
    publish("d", "4");

    outbox.pumpOutbox();

    Map<String, Double> published = publishedByNamespace();
    assertThat(published)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("a", 1.0, "b", 1.0, OutboxMetrics.OTHER_NAMESPACE, 2.0));
  }

  @Test
  void namespaceTagsCanBeLeftOut() {
    metrics = metricsBuilder().maxNamespaceTags(0).build();
    outbox = outboxBuilder(publisher).listener(metrics).build();
    publish("a", "1");
    publish("b", "2");

    outbox.pumpOutbox();

    List<Meter> meters = registry.find("outbox.messages.published").meters().stream().toList();
    assertThat(meters).hasSize(1);
    assertThat(meters.get(0).getId().getTags()).containsExactly(Tag.of("outbox", "orders"));
    assertThat(((Counter) meters.get(0)).count()).isEqualTo(2);
  }

  private Map<String, Double> publishedByNamespace() {
    Map<String, Double> byNs = new TreeMap<>();
    for (Counter c : registry.find("outbox.messages.published").counters()) {
      byNs.put(c.getId().getTag("namespace"), c.count());
    }
    return byNs;
  }

  @Test
  void withoutTheInstrumentedPublisherTheKindComesFromTheAttempts() {
    metrics = metricsBuilder().build();
    outbox = outboxBuilder(publisher).maxAttempts(3).listener(metrics).build();
    metrics.monitor(outbox);
    publish("orders", "ok", "refused");
    publisher.modes.put("refused", Mode.PERMANENT);

    assertThat(outbox.pumpOutbox()).isEqualTo(new PumpResult(2, 1, 0, 1, 0));

    assertThat(registry.get("outbox.messages.failed").tag("kind", "permanent").counter().count())
        .isEqualTo(1);
    assertThat(registry.get("outbox.messages.failed").tag("kind", "retryable").counter().count())
        .isZero();
    assertThat(registry.find("outbox.publish.duration").timers()).isEmpty();
  }

  @Test
  void theInstrumentedPublisherKeepsTheWriteTimeCheck() {
    metrics = metricsBuilder().build();
    Publisher strict =
        new Publisher() {
          @Override
          public void publish(List<ClaimedEntry> entries) {}

          @Override
          public void checkDeliverable(Message message) {
            if (message.payloadSize() > 3) {
              throw new IllegalArgumentException("payload over 3 bytes");
            }
          }
        };
    outbox = outboxBuilder(metrics.instrument(strict)).listener(metrics).build();

    assertThatThrownBy(() -> publish("orders", "too long"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("payload over 3 bytes");
    assertThat(storage.delegate.size()).isZero();
  }

  @Test
  void theBuilderNamesEveryBadSetting() {
    assertThatThrownBy(
            () ->
                OutboxMetrics.builder(null, " ")
                    .clock(null)
                    .statsRefreshInterval(Duration.ofMillis(10))
                    .maxNamespaceTags(-1)
                    .threadFactory(null)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("registry must not be null")
        .hasMessageContaining("outboxName must not be null or blank")
        .hasMessageContaining("clock must not be null")
        .hasMessageContaining("threadFactory must not be null")
        .hasMessageContaining("statsRefreshInterval is PT0.01S; allowed PT0.1S to P1D")
        .hasMessageContaining("maxNamespaceTags is -1; allowed 0 or more");
  }

  private static void await(BooleanSupplier condition, String what) {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("expected " + what + " within " + WAIT);
      }
      Thread.onSpinWait();
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
