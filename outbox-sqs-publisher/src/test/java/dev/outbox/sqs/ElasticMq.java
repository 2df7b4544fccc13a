package dev.outbox.sqs;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.CreateQueueRequest;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/**
 * An ElasticMQ server started in-process on a free loopback port, and an SDK client pointed at it.
 * One per test class: {@link #start()} in {@code @BeforeAll}, {@link #close()} in
 * {@code @AfterAll}. Published in this module's test jar for other modules' tests (the
 * OpenTelemetry module's).
 */
public final class ElasticMq implements AutoCloseable {

  private static final AtomicInteger QUEUE_COUNTER = new AtomicInteger();

  private final SQSRestServer server;
  private final int port;
  private final SqsAsyncClient client;

  private ElasticMq() {
    server = SQSRestServerBuilder.withPort(0).withInterface("127.0.0.1").start();
    port = server.waitUntilStarted().localAddress().getPort();
    client = client(URI.create("http://127.0.0.1:" + port));
  }

  /** Starts a server. */
  public static ElasticMq start() {
    return new ElasticMq();
  }

  /** A client for any endpoint, with dummy credentials. */
  public static SqsAsyncClient client(URI endpoint) {
    return SqsAsyncClient.builder()
        .endpointOverride(endpoint)
        .region(Region.EU_WEST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
        .httpClientBuilder(NettyNioAsyncHttpClient.builder())
        .build();
  }

  /** The client pointed at this server. */
  public SqsAsyncClient client() {
    return client;
  }

  int port() {
    return port;
  }

  /** Creates a queue with a fresh name starting with the prefix; FIFO when {@code fifo}. */
  public String createQueue(String prefix, boolean fifo) {
    String name = prefix + "-" + QUEUE_COUNTER.incrementAndGet() + (fifo ? ".fifo" : "");
    CreateQueueRequest.Builder request = CreateQueueRequest.builder().queueName(name);
    if (fifo) {
      request.attributes(Map.of(QueueAttributeName.FIFO_QUEUE, "true"));
    }
    return client.createQueue(request.build()).join().queueUrl();
  }

  /** A URL of this server naming a queue that does not exist. */
  String missingQueueUrl() {
    return "http://127.0.0.1:"
        + port
        + "/000000000000/no-such-queue-"
        + QUEUE_COUNTER.incrementAndGet();
  }

  /**
   * Receives (and deletes) messages until at least {@code atLeast} arrived or the timeout passed,
   * with long polling: never sleeps. In arrival order, so FIFO group order shows.
   */
  public List<Message> receive(String queueUrl, int atLeast, Duration timeout) {
    List<Message> got = new ArrayList<>();
    Instant deadline = Instant.now().plus(timeout);
    while (got.size() < atLeast && Instant.now().isBefore(deadline)) {
      ReceiveMessageResponse response =
          client
              .receiveMessage(
                  r ->
                      r.queueUrl(queueUrl)
                          .maxNumberOfMessages(10)
                          .waitTimeSeconds(1)
                          .messageAttributeNames("All")
                          .messageSystemAttributeNames(MessageSystemAttributeName.ALL))
              .join();
      got.addAll(response.messages());
      if (!response.messages().isEmpty()) {
        List<DeleteMessageBatchRequestEntry> delete = new ArrayList<>();
        for (Message m : response.messages()) {
          delete.add(
              DeleteMessageBatchRequestEntry.builder()
                  .id(Integer.toString(delete.size()))
                  .receiptHandle(m.receiptHandle())
                  .build());
        }
        client.deleteMessageBatch(d -> d.queueUrl(queueUrl).entries(delete)).join();
      }
    }
    return got;
  }

  /** Receives whatever else is in the queue within a short wait: for "nothing more arrived". */
  List<Message> drain(String queueUrl) {
    return receive(queueUrl, Integer.MAX_VALUE, Duration.ofSeconds(2));
  }

  @Override
  public void close() {
    client.close();
    server.stopAndWait();
  }
}
