package dev.outbox.sqs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One SendMessageBatch request to be: up to the entry and byte limits, one queue. On a FIFO queue a
 * batch waits for the earlier batches that hold messages of the same groups, so a group's messages
 * reach SQS in outbox order while batches of unrelated groups go out concurrently.
 */
final class Batch {

  final String queueUrl;
  final boolean fifo;
  final List<PreparedEntry> entries = new ArrayList<>();
  final List<Batch> dependents = new ArrayList<>();
  final AtomicInteger waitingFor = new AtomicInteger();
  private int bytes;

  private Batch(String queueUrl, boolean fifo) {
    this.queueUrl = queueUrl;
    this.fifo = fifo;
  }

  /**
   * Cuts the prepared entries into batches: per queue, in the given order, each batch at most
   * {@code maxEntries} entries and {@code maxBytes} bytes; on FIFO queues links every batch to the
   * previous batch of each group it holds.
   */
  static List<Batch> plan(List<PreparedEntry> prepared, int maxEntries, int maxBytes) {
    Map<String, List<PreparedEntry>> byQueue = new LinkedHashMap<>();
    for (PreparedEntry p : prepared) {
      byQueue.computeIfAbsent(p.queueUrl(), q -> new ArrayList<>()).add(p);
    }
    List<Batch> batches = new ArrayList<>();
    for (Map.Entry<String, List<PreparedEntry>> queue : byQueue.entrySet()) {
      boolean fifo = SqsPublisher.isFifo(queue.getKey());
      List<Batch> queueBatches = new ArrayList<>();
      Batch current = null;
      for (PreparedEntry p : queue.getValue()) {
        if (current == null
            || current.entries.size() >= maxEntries
            || current.bytes + p.bytes() > maxBytes) {
          current = new Batch(queue.getKey(), fifo);
          queueBatches.add(current);
        }
        current.entries.add(p);
        current.bytes += p.bytes();
      }
      if (fifo) {
        linkGroups(queueBatches);
      }
      batches.addAll(queueBatches);
    }
    return batches;
  }

  private static void linkGroups(List<Batch> queueBatches) {
    Map<String, Batch> lastOfGroup = new LinkedHashMap<>();
    for (Batch b : queueBatches) {
      Set<Batch> before = new LinkedHashSet<>();
      for (PreparedEntry p : b.entries) {
        Batch previous = lastOfGroup.put(p.groupId(), b);
        if (previous != null && previous != b) {
          before.add(previous);
        }
      }
      for (Batch previous : before) {
        previous.dependents.add(b);
        b.waitingFor.incrementAndGet();
      }
    }
  }

  int bytes() {
    return bytes;
  }
}
