package dev.outbox.example;

import dev.outbox.sqs.SqsMessages;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/**
 * What the downstream service does: long-polls the queue, deduplicates by the outbox message id
 * (unique beyond one outbox table, unlike the entry id), and records when each order arrived.
 */
final class QueueConsumer implements AutoCloseable {

  private static final Pattern RUN = Pattern.compile("\"run\":\"([^\"]+)\"");
  private static final Pattern ORDER = Pattern.compile("\"orderId\":(\\d+)");

  private final SqsAsyncClient sqs;
  private final String queueUrl;
  private final String runId;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopped;

  /** Order id → System.nanoTime() at first receipt. */
  final Map<Long, Long> consumedAt = new ConcurrentHashMap<>();

  private final Map<UUID, Boolean> seenMessages = new ConcurrentHashMap<>();
  private final AtomicInteger duplicates = new AtomicInteger();
  private final AtomicInteger foreign = new AtomicInteger();

  QueueConsumer(SqsAsyncClient sqs, String queueUrl, String runId, int threads) {
    this.sqs = sqs;
    this.queueUrl = queueUrl;
    this.runId = runId;
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(this::loop, "consumer-" + i);
      t.setDaemon(true);
      this.threads.add(t);
    }
  }

  QueueConsumer start() {
    threads.forEach(Thread::start);
    return this;
  }

  private void loop() {
    while (!stopped) {
      ReceiveMessageResponse response;
      try {
        response =
            sqs.receiveMessage(
                    r ->
                        r.queueUrl(queueUrl)
                            .maxNumberOfMessages(10)
                            .waitTimeSeconds(1)
                            .messageAttributeNames("All"))
                .join();
      } catch (RuntimeException e) {
        if (!stopped) {
          System.err.println("consumer: receive failed, retrying: " + e);
        }
        continue;
      }
      long now = System.nanoTime();
      List<DeleteMessageBatchRequestEntry> done = new ArrayList<>();
      for (Message m : response.messages()) {
        handle(m, now);
        done.add(
            DeleteMessageBatchRequestEntry.builder()
                .id(Integer.toString(done.size()))
                .receiptHandle(m.receiptHandle())
                .build());
      }
      if (!done.isEmpty()) {
        sqs.deleteMessageBatch(d -> d.queueUrl(queueUrl).entries(done)).join();
      }
    }
  }

  private void handle(Message m, long now) {
    String body = new String(SqsMessages.payload(m), java.nio.charset.StandardCharsets.UTF_8);
    Matcher run = RUN.matcher(body);
    Matcher order = ORDER.matcher(body);
    if (!run.find() || !run.group(1).equals(runId) || !order.find()) {
      foreign.incrementAndGet(); // left over from an earlier run on a shared queue
      return;
    }
    if (seenMessages.putIfAbsent(SqsMessages.messageId(m), Boolean.TRUE) != null) {
      duplicates.incrementAndGet(); // at-least-once: the same outbox message delivered again
      return;
    }
    consumedAt.putIfAbsent(Long.parseLong(order.group(1)), now);
  }

  int consumed() {
    return consumedAt.size();
  }

  int duplicates() {
    return duplicates.get();
  }

  int foreign() {
    return foreign.get();
  }

  @Override
  public void close() throws InterruptedException {
    stopped = true;
    for (Thread t : threads) {
      t.join(5000);
    }
  }
}
