package dev.outbox.example;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * The SQS side of the example: a client for the given endpoint, or an ElasticMQ server started
 * in-process on a free loopback port (a real SQS-protocol server) when none is given.
 */
final class LocalSqs implements AutoCloseable {

  private final SQSRestServer server; // null when an endpoint was given
  private final URI endpoint;
  private final SqsAsyncClient client;

  LocalSqs(String endpoint) {
    if (endpoint == null) {
      server = SQSRestServerBuilder.withPort(0).withInterface("127.0.0.1").start();
      int port = server.waitUntilStarted().localAddress().getPort();
      this.endpoint = URI.create("http://127.0.0.1:" + port);
    } else {
      server = null;
      this.endpoint = URI.create(endpoint);
    }
    client =
        SqsAsyncClient.builder()
            .endpointOverride(this.endpoint)
            .region(Region.of(System.getenv().getOrDefault("AWS_REGION", "eu-west-1")))
            .credentialsProvider(
                server != null
                    ? StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"))
                    : software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider.create())
            .httpClientBuilder(NettyNioAsyncHttpClient.builder().maxConcurrency(64))
            .build();
  }

  boolean inProcess() {
    return server != null;
  }

  URI endpoint() {
    return endpoint;
  }

  SqsAsyncClient client() {
    return client;
  }

  /**
   * Exercises the in-process ElasticMQ (and this JVM's SDK client) with the calls the run makes, on
   * a queue of its own, until they run compiled rather than interpreted. Cold, it answered in 40 ms
   * at the median under the run's load on a 2-core machine; warm, in 10 ms; and the run is too
   * short to get there on its own. Nothing of the outbox is warmed: it sends nothing here.
   *
   * @param requests how many requests to make (the 900 of the default are about 3 s on an idle
   *     2-core machine)
   * @param time how long to keep at it at most
   * @return how many requests it made
   */
  int warmUp(int requests, Duration time) {
    String queue = queue("warm-up");
    long end = System.nanoTime() + time.toNanos();
    int made = 0;
    for (int i = 0; made < requests && System.nanoTime() < end; i++) {
      List<SendMessageBatchRequestEntry> batch = new ArrayList<>();
      for (int j = 0; j < 10; j++) {
        batch.add(
            SendMessageBatchRequestEntry.builder()
                .id(Integer.toString(j))
                .messageBody("warm-up " + i + "." + j)
                .build());
      }
      client.sendMessageBatch(r -> r.queueUrl(queue).entries(batch)).join();
      List<Message> received =
          client.receiveMessage(r -> r.queueUrl(queue).maxNumberOfMessages(10)).join().messages();
      made += 2;
      if (!received.isEmpty()) {
        List<DeleteMessageBatchRequestEntry> done = new ArrayList<>();
        for (Message m : received) {
          done.add(
              DeleteMessageBatchRequestEntry.builder()
                  .id(Integer.toString(done.size()))
                  .receiptHandle(m.receiptHandle())
                  .build());
        }
        client.deleteMessageBatch(r -> r.queueUrl(queue).entries(done)).join();
        made++;
      }
    }
    client.deleteQueue(r -> r.queueUrl(queue)).join();
    return made + 1;
  }

  /** Creates the queue if missing and returns its URL. */
  String queue(String name) {
    return client.createQueue(r -> r.queueName(name)).join().queueUrl();
  }

  @Override
  public void close() {
    client.close();
    if (server != null) {
      server.stopAndWait();
    }
  }
}
