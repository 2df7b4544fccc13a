package dev.outbox.sqs;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/**
 * A client over a real one (ElasticMQ's) that fails chosen entries of {@code SendMessageBatch} the
 * way SQS reports a transient fault of one entry: listed under {@code Failed} with code {@code
 * InternalError} and no sender fault, never passed on to the queue. The rest of the request goes to
 * the server as it is. It also records every request it was asked to send.
 *
 * <p>ElasticMQ refuses entries only for faults in the message (permanent); this stands for the
 * per-entry service faults (internal errors, KMS throttling) SQS itself may report.
 */
final class FlakySqs implements SqsAsyncClient {

  /** A message header that makes {@link #failMarked} fail the entry. */
  static final String FAIL_HEADER = "x-fail-transiently";

  private final SqsAsyncClient delegate;
  private volatile Predicate<SendMessageBatchRequestEntry> fail = e -> false;
  final List<SendMessageBatchRequest> requests = new CopyOnWriteArrayList<>();

  FlakySqs(SqsAsyncClient delegate) {
    this.delegate = delegate;
  }

  /** Fails the entries the predicate picks (called once per entry sent). */
  FlakySqs failWhen(Predicate<SendMessageBatchRequestEntry> predicate) {
    this.fail = predicate;
    return this;
  }

  /** Fails the entries whose message carries {@link #FAIL_HEADER}. */
  FlakySqs failMarked() {
    return failWhen(e -> e.messageAttributes().containsKey(FAIL_HEADER));
  }

  @Override
  public CompletableFuture<SendMessageBatchResponse> sendMessageBatch(
      SendMessageBatchRequest request) {
    requests.add(request);
    List<SendMessageBatchRequestEntry> pass = new ArrayList<>();
    List<BatchResultErrorEntry> failed = new ArrayList<>();
    for (SendMessageBatchRequestEntry e : request.entries()) {
      if (fail.test(e)) {
        failed.add(
            BatchResultErrorEntry.builder()
                .id(e.id())
                .code("InternalError")
                .message("injected transient fault")
                .senderFault(false)
                .build());
      } else {
        pass.add(e);
      }
    }
    if (pass.isEmpty()) {
      return CompletableFuture.completedFuture(
          SendMessageBatchResponse.builder().failed(failed).successful(List.of()).build());
    }
    return delegate
        .sendMessageBatch(request.toBuilder().entries(pass).build())
        .thenApply(
            r -> {
              List<BatchResultErrorEntry> all = new ArrayList<>(r.failed());
              all.addAll(failed);
              return r.toBuilder().failed(all).build();
            });
  }

  @Override
  public String serviceName() {
    return delegate.serviceName();
  }

  @Override
  public void close() {
    // the delegate is ElasticMq's
  }
}
