package dev.outbox.sqs;

import java.util.ArrayList;
import java.util.HashMap;
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
   *
   * <p>On a FIFO queue a batch holds at most one message of each key (namespace and key): SQS
   * reports each entry of a request on its own, so a later message of the key in the same request
   * could be accepted while an earlier one fails, and nothing could take it back. A key's next
   * message goes into a later batch, which waits for the earlier one through their group; messages
   * of other keys fill the room, so only a hot key's run costs one request per message.
   */
  static List<Batch> plan(List<PreparedEntry> prepared, int maxEntries, int maxBytes) {
    Map<String, List<PreparedEntry>> byQueue = new LinkedHashMap<>();
    for (PreparedEntry p : prepared) {
      byQueue.computeIfAbsent(p.queueUrl(), q -> new ArrayList<>()).add(p);
    }
    List<Batch> batches = new ArrayList<>();
    for (Map.Entry<String, List<PreparedEntry>> queue : byQueue.entrySet()) {
      boolean fifo = SqsPublisher.isFifo(queue.getKey());
      List<Batch> queueBatches =
          fifo
              ? cutFifo(queue.getKey(), queue.getValue(), maxEntries, maxBytes)
              : cut(queue.getKey(), queue.getValue(), maxEntries, maxBytes);
      if (fifo) {
        linkGroups(queueBatches);
      }
      batches.addAll(queueBatches);
    }
    return batches;
  }

  /** Consecutive batches in the given order. */
  private static List<Batch> cut(
      String queueUrl, List<PreparedEntry> entries, int maxEntries, int maxBytes) {
    List<Batch> queueBatches = new ArrayList<>();
    Batch current = null;
    for (PreparedEntry p : entries) {
      if (current == null || !current.fits(p, maxEntries, maxBytes)) {
        current = new Batch(queueUrl, false);
        queueBatches.add(current);
      }
      current.add(p);
    }
    return queueBatches;
  }

  /**
   * Batches for a FIFO queue: each entry goes into the first batch with room after the batch of its
   * key's previous entry (messages without a key: not before the previous one without a key), so
   * each key's messages are in increasing batches, one per batch, and batches stay full.
   */
  private static List<Batch> cutFifo(
      String queueUrl, List<PreparedEntry> entries, int maxEntries, int maxBytes) {
    List<Batch> queueBatches = new ArrayList<>();
    Map<Object, Integer> lastBatchOfKey = new HashMap<>();
    int lastKeyless = 0;
    int firstOpen = 0; // every batch before it is full by entry count
    for (PreparedEntry p : entries) {
      Object key = p.orderKey();
      int from = key == null ? lastKeyless : lastBatchOfKey.getOrDefault(key, -1) + 1;
      int i = Math.max(from, firstOpen);
      while (i < queueBatches.size() && !queueBatches.get(i).fits(p, maxEntries, maxBytes)) {
        i++;
      }
      if (i == queueBatches.size()) {
        queueBatches.add(new Batch(queueUrl, true));
      }
      queueBatches.get(i).add(p);
      if (key == null) {
        lastKeyless = i;
      } else {
        lastBatchOfKey.put(key, i);
      }
      while (firstOpen < queueBatches.size()
          && queueBatches.get(firstOpen).entries.size() >= maxEntries) {
        firstOpen++;
      }
    }
    return queueBatches;
  }

  private boolean fits(PreparedEntry p, int maxEntries, int maxBytes) {
    return entries.isEmpty() || (entries.size() < maxEntries && bytes + p.bytes() <= maxBytes);
  }

  private void add(PreparedEntry p) {
    entries.add(p);
    bytes += p.bytes();
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
