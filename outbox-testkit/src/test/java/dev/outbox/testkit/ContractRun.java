package dev.outbox.testkit;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.EventType;

/**
 * One run of a contract class (or some of its tests) on the Jupiter engine, through the JUnit
 * Platform's EngineTestKit: which tests failed and why, which passed or were skipped, and how long
 * each took.
 */
final class ContractRun {

  final Map<String, Throwable> failed = new TreeMap<>();
  final Set<String> passed = new TreeSet<>();
  final Set<String> skipped = new TreeSet<>();
  final Map<String, Duration> durations = new TreeMap<>();

  private ContractRun() {}

  /** Runs every test of the class. */
  static ContractRun of(Class<?> contract) {
    return run(selectClass(contract));
  }

  /** Runs the named tests of the class. */
  static ContractRun of(Class<?> contract, String... methods) {
    return run(
        Arrays.stream(methods)
            .map(m -> selectMethod(contract, m))
            .toArray(DiscoverySelector[]::new));
  }

  private static ContractRun run(DiscoverySelector... selectors) {
    List<Event> events =
        EngineTestKit.engine("junit-jupiter").selectors(selectors).execute().testEvents().list();
    ContractRun run = new ContractRun();
    Map<String, Instant> started = new HashMap<>();
    for (Event e : events) {
      String name = name(e);
      if (e.getType() == EventType.STARTED) {
        started.put(name, e.getTimestamp());
      } else if (e.getType() == EventType.SKIPPED) {
        run.skipped.add(name);
      } else if (e.getType() == EventType.FINISHED) {
        run.durations.put(name, Duration.between(started.get(name), e.getTimestamp()));
        TestExecutionResult result = e.getPayload(TestExecutionResult.class).orElseThrow();
        switch (result.getStatus()) {
          case SUCCESSFUL -> run.passed.add(name);
          case ABORTED -> run.skipped.add(name);
          case FAILED -> run.failed.put(name, result.getThrowable().orElseThrow());
        }
      }
    }
    return run;
  }

  private static String name(Event e) {
    return e.getTestDescriptor()
        .getSource()
        .filter(MethodSource.class::isInstance)
        .map(s -> ((MethodSource) s).getMethodName())
        .orElse(e.getTestDescriptor().getDisplayName());
  }

  /** The failure message of a test (with its causes'), or null when it did not fail. */
  String message(String test) {
    Throwable t = failed.get(test);
    if (t == null) {
      return null;
    }
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      b.append(c).append('\n');
    }
    return b.toString();
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    b.append(passed.size())
        .append(" passed, ")
        .append(skipped.size())
        .append(" skipped, ")
        .append(failed.size())
        .append(" failed:");
    failed.forEach(
        (k, v) ->
            b.append("\n  ")
                .append(k)
                .append(" (")
                .append(durations.get(k).toMillis())
                .append(" ms): ")
                .append(String.valueOf(v.getMessage()).lines().findFirst().orElse("")));
    return b.toString();
  }
}
