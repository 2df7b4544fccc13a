package dev.outbox.example;

import dev.outbox.sqs.SqsMessages;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/**
 * The downstream service on SQS: long-polls the queue with a few threads and hands every message to
 * {@link OrderConsumer#handle}, then deletes it.
 */
final class QueueConsumer extends OrderConsumer {

  private final SqsAsyncClient sqs;
  private final String queueUrl;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopped;

  QueueConsumer(SqsAsyncClient sqs, String queueUrl, String runId, int threads) {
    super(runId);
    this.sqs = sqs;
    this.queueUrl = queueUrl;
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(this::loop, "consumer-" + i);
      t.setDaemon(true);
      this.threads.add(t);
    }
  }

  @Override
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
        handle(SqsMessages.messageId(m), SqsMessages.payload(m), now);
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

  @Override
  public void close() throws InterruptedException {
    stopped = true;
    for (Thread t : threads) {
      t.join(5000);
    }
  }
}
