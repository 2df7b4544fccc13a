package dev.outbox.sqs;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;

/**
 * Sends planned batches with at most {@code maxInFlight} requests outstanding, each FIFO batch only
 * after the batches it waits for, and records every entry's outcome. On a FIFO queue, once a
 * message fails (retryably or for good), the later messages of its key (namespace and key) in the
 * call are not sent: they fail retryably, to follow it.
 *
 * <p>All blocking (waiting for a permit or a ready batch) happens on the calling thread; the SDK's
 * callbacks only record outcomes and hand on work, so they never block its event loop.
 */
final class BatchSender {

  private static final Logger log = LoggerFactory.getLogger(BatchSender.class);

  private final SqsAsyncClient client;
  private final int maxInFlight;

  BatchSender(SqsAsyncClient client, int maxInFlight) {
    this.client = client;
    this.maxInFlight = maxInFlight;
  }

  /**
   * Sends every batch and records the outcomes. Returns once every request has completed.
   *
   * @throws InterruptedException when the calling thread is interrupted; outcomes recorded so far
   *     stay recorded, requests in flight may still complete
   */
  void sendAll(List<Batch> batches, Outcomes outcomes) throws InterruptedException {
    BlockingQueue<Batch> ready = new LinkedBlockingQueue<>();
    for (Batch b : batches) {
      if (b.waitingFor.get() == 0) {
        ready.add(b);
      }
    }
    Semaphore permits = new Semaphore(maxInFlight);
    CountDownLatch done = new CountDownLatch(batches.size());
    for (int i = 0; i < batches.size(); i++) {
      Batch batch = ready.take();
      permits.acquire();
      CompletableFuture<Void> sending;
      try {
        sending = send(batch, outcomes);
      } catch (RuntimeException e) {
        sending = CompletableFuture.failedFuture(e);
      }
      sending.whenComplete(
          (ignored, error) -> {
            if (error != null) {
              // A bug of ours or the client's: the outcome of these entries is unknown.
              log.warn("sending a batch to {} failed unexpectedly", batch.queueUrl, error);
              for (PreparedEntry p : batch.entries) {
                fail(batch, p, failure(p, Failures.unwrap(error)), false, outcomes);
              }
            }
            permits.release();
            for (Batch next : batch.dependents) {
              if (next.waitingFor.decrementAndGet() == 0) {
                ready.add(next);
              }
            }
            done.countDown();
          });
    }
    done.await();
  }

  private CompletableFuture<Void> send(Batch batch, Outcomes outcomes) {
    List<PreparedEntry> entries = new ArrayList<>(batch.entries.size());
    for (PreparedEntry p : batch.entries) {
      if (!heldBackForKeyOrder(batch, p, outcomes)) {
        entries.add(p);
      }
    }
    if (entries.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return request(batch.queueUrl, entries)
        .handle(
            (response, error) -> {
              if (error == null) {
                record(batch, entries, response, outcomes);
                return CompletableFuture.<Void>completedFuture(null);
              }
              Throwable cause = Failures.unwrap(error);
              if (entries.size() > 1 && Failures.messageFault(cause)) {
                // SQS refused the whole request for something in a message; send them one by one
                // to find out which, in order, so a FIFO group stays in order.
                log.debug(
                    "SendMessageBatch of {} entries to {} refused ({}); sending them one by one",
                    entries.size(),
                    batch.queueUrl,
                    Failures.errorCode(cause));
                return oneByOne(batch, entries, 0, outcomes);
              }
              recordRequestFailure(batch, entries, cause, outcomes);
              return CompletableFuture.<Void>completedFuture(null);
            })
        .thenCompose(f -> f);
  }

  /**
   * Records a retryable failure for a FIFO entry whose key (namespace and key) already failed in
   * this call, so it cannot overtake the failed one; returns whether it did.
   */
  private static boolean heldBackForKeyOrder(Batch batch, PreparedEntry p, Outcomes outcomes) {
    if (!batch.fifo || !outcomes.keyBroken(p.orderKey())) {
      return false;
    }
    outcomes.retryable(
        p.id(),
        new SqsEntryException(
            "message "
                + p.id()
                + " was not sent: an earlier message of its key (FIFO group '"
                + p.groupId()
                + "') failed in this call, and sending this one now would put it out of order",
            p.id(),
            p.queueUrl(),
            null,
            false,
            null));
    return true;
  }

  private CompletableFuture<Void> oneByOne(
      Batch batch, List<PreparedEntry> entries, int index, Outcomes outcomes) {
    if (index == entries.size()) {
      return CompletableFuture.completedFuture(null);
    }
    PreparedEntry p = entries.get(index);
    if (heldBackForKeyOrder(batch, p, outcomes)) {
      return oneByOne(batch, entries, index + 1, outcomes);
    }
    List<PreparedEntry> single = List.of(p);
    return request(batch.queueUrl, single)
        .handle(
            (response, error) -> {
              if (error == null) {
                record(batch, single, response, outcomes);
              } else {
                recordRequestFailure(batch, single, Failures.unwrap(error), outcomes);
              }
              return null;
            })
        .thenCompose(ignored -> oneByOne(batch, entries, index + 1, outcomes));
  }

  private CompletableFuture<SendMessageBatchResponse> request(
      String queueUrl, List<PreparedEntry> entries) {
    List<SendMessageBatchRequestEntry> requestEntries = new ArrayList<>(entries.size());
    for (PreparedEntry p : entries) {
      requestEntries.add(p.request());
    }
    try {
      return client.sendMessageBatch(
          SendMessageBatchRequest.builder().queueUrl(queueUrl).entries(requestEntries).build());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private void record(
      Batch batch,
      List<PreparedEntry> entries,
      SendMessageBatchResponse response,
      Outcomes outcomes) {
    Map<String, PreparedEntry> byBatchId = new HashMap<>();
    for (PreparedEntry p : entries) {
      byBatchId.put(p.request().id(), p);
    }
    for (BatchResultErrorEntry f : response.failed()) {
      PreparedEntry p = byBatchId.remove(f.id());
      if (p == null) {
        log.warn(
            "SQS reported a failure for batch entry {} that was not sent to {}",
            f.id(),
            batch.queueUrl);
        continue;
      }
      boolean permanent = Failures.permanentEntryFailure(f.code(), f.senderFault());
      SqsEntryException cause =
          new SqsEntryException(
              "SQS refused message "
                  + p.id()
                  + " for "
                  + batch.queueUrl
                  + ": "
                  + f.code()
                  + (f.message() == null ? "" : " (" + f.message() + ")")
                  + (Boolean.TRUE.equals(f.senderFault()) ? ", sender fault" : ", service fault"),
              p.id(),
              batch.queueUrl,
              Failures.normalize(f.code()),
              Boolean.TRUE.equals(f.senderFault()),
              null);
      fail(batch, p, cause, permanent, outcomes);
    }
    for (SendMessageBatchResultEntry s : response.successful()) {
      PreparedEntry p = byBatchId.remove(s.id());
      if (p == null) {
        log.warn(
            "SQS reported success for batch entry {} that was not sent to {}",
            s.id(),
            batch.queueUrl);
        continue;
      }
      outcomes.sent(p.id());
    }
    for (PreparedEntry p : byBatchId.values()) {
      // Neither sent nor failed: never count it as sent.
      fail(
          batch,
          p,
          new SqsEntryException(
              "SQS's SendMessageBatch response for "
                  + batch.queueUrl
                  + " lists message "
                  + p.id()
                  + " neither as successful nor as failed; treating it as not sent",
              p.id(),
              batch.queueUrl,
              null,
              false,
              null),
          false,
          outcomes);
    }
  }

  private void recordRequestFailure(
      Batch batch, List<PreparedEntry> entries, Throwable cause, Outcomes outcomes) {
    boolean permanent =
        Failures.queueMissing(cause) || (entries.size() == 1 && Failures.messageFault(cause));
    log.debug(
        "SendMessageBatch of {} entries to {} failed ({})",
        entries.size(),
        batch.queueUrl,
        permanent ? "permanent" : "retryable",
        cause);
    for (PreparedEntry p : entries) {
      fail(batch, p, failure(p, cause), permanent, outcomes);
    }
  }

  private static void fail(
      Batch batch, PreparedEntry p, Throwable cause, boolean permanent, Outcomes outcomes) {
    if (permanent) {
      outcomes.permanent(p.id(), cause);
    } else {
      outcomes.retryable(p.id(), cause);
    }
    if (batch.fifo) {
      // Retried or dead-lettered, it comes later than the key's next messages would: hold them.
      outcomes.breakKey(p.orderKey());
    }
  }

  private static SqsEntryException failure(PreparedEntry p, Throwable cause) {
    String code = Failures.errorCode(cause);
    return new SqsEntryException(
        "SendMessageBatch to " + p.queueUrl() + " carrying message " + p.id() + " failed: " + cause,
        p.id(),
        p.queueUrl(),
        code,
        cause instanceof software.amazon.awssdk.awscore.exception.AwsServiceException ase
            && ase.statusCode() >= 400
            && ase.statusCode() < 500,
        cause);
  }
}
