package dev.outbox.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Writer threads that write messages {@code 0 .. total-1} at a fixed rate: message {@code seq} is
 * written no earlier than {@code start + seq / rate}, by whichever writer takes it next. The
 * latency and sustained-load parts drive their producers with it.
 */
final class PacedWriters {

  /** Writes one message. */
  interface Write {
    void write(int seq) throws Exception;
  }

  /** When message 0 is due, by {@link System#nanoTime()}. */
  final long start;

  private final List<Thread> threads = new ArrayList<>();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();

  private PacedWriters(String name, int writers, int total, double rate, Write write) {
    this.start = System.nanoTime() + 1_000_000;
    AtomicInteger next = new AtomicInteger();
    double nanosPerMessage = 1e9 / rate;
    for (int p = 0; p < writers; p++) {
      Thread t =
          new Thread(
              () -> {
                try {
                  int seq;
                  while ((seq = next.getAndIncrement()) < total) {
                    long due = start + (long) (seq * nanosPerMessage);
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) {
                      LockSupport.parkNanos(wait);
                    }
                    write.write(seq);
                  }
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                }
              },
              name + "-" + p);
      threads.add(t);
    }
  }

  /** Starts {@code writers} threads named {@code name-<n>}. */
  static PacedWriters start(String name, int writers, int total, double rate, Write write) {
    PacedWriters w = new PacedWriters(name, writers, total, rate, write);
    w.threads.forEach(Thread::start);
    return w;
  }

  /** Whether any writer still runs. */
  boolean anyAlive() {
    return threads.stream().anyMatch(Thread::isAlive);
  }

  /**
   * Waits for every writer.
   *
   * @throws IllegalStateException naming {@code what} when a writer failed
   */
  void join(String what) throws InterruptedException {
    for (Thread t : threads) {
      t.join();
    }
    if (failure.get() != null) {
      throw new IllegalStateException(what + " failed", failure.get());
    }
  }
}
