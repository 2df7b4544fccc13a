package dev.outbox.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** Runs a drain step on several threads at once until each thread finds nothing left. */
final class Parallel {

  /** One step of a drain on one thread: returns how many messages it handled, 0 when done. */
  @FunctionalInterface
  interface Step {
    int run() throws Exception;
  }

  /** Makes one thread's step; called on that thread, so it may open a connection there. */
  @FunctionalInterface
  interface Worker {
    /** Runs steps until one returns 0; returns the total handled. */
    long drain() throws Exception;
  }

  private Parallel() {}

  /** Repeats {@code step} until it returns 0 and gives the total. */
  static long untilEmpty(Step step) throws Exception {
    long total = 0;
    int n;
    while ((n = step.run()) > 0) {
      total += n;
    }
    return total;
  }

  /**
   * Starts {@code threads} workers together and waits for all of them.
   *
   * @return nanoseconds from the common start to the last worker's end, the total handled, and the
   *     JVM's CPU nanoseconds over the same span (-1 when unknown)
   */
  static long[] run(int threads, java.util.function.IntFunction<Worker> workers) throws Exception {
    CountDownLatch ready = new CountDownLatch(threads);
    CountDownLatch go = new CountDownLatch(1);
    AtomicLong handled = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> list = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      Worker w = workers.apply(i);
      Thread t =
          new Thread(
              () -> {
                ready.countDown();
                try {
                  go.await();
                  handled.addAndGet(w.drain());
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                }
              },
              "bench-" + i);
      list.add(t);
      t.start();
    }
    ready.await();
    long cpu = Bench.cpuNanos();
    long start = System.nanoTime();
    go.countDown();
    for (Thread t : list) {
      t.join();
    }
    long took = System.nanoTime() - start;
    long cpuAfter = Bench.cpuNanos();
    if (failure.get() != null) {
      throw new IllegalStateException("a benchmark thread failed", failure.get());
    }
    return new long[] {took, handled.get(), cpu < 0 || cpuAfter < 0 ? -1 : cpuAfter - cpu};
  }
}
