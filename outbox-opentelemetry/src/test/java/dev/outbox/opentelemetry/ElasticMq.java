package dev.outbox.opentelemetry;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/**
 * An ElasticMQ server started in-process on a free loopback port, and an SDK client pointed at it;
 * started as outbox-sqs-publisher's tests start theirs (its helper is test code, not shared).
 */
final class ElasticMq implements AutoCloseable {

  private final SQSRestServer server;
  private final SqsAsyncClient client;

  ElasticMq() {
    server = SQSRestServerBuilder.withPort(0).withInterface("127.0.0.1").start();
    int port = server.waitUntilStarted().localAddress().getPort();
    client =
        SqsAsyncClient.builder()
            .endpointOverride(URI.create("http://127.0.0.1:" + port))
            .region(Region.EU_WEST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
            .httpClientBuilder(NettyNioAsyncHttpClient.builder())
            .build();
  }

  SqsAsyncClient client() {
    return client;
  }

  String createQueue(String name) {
    return client.createQueue(r -> r.queueName(name)).join().queueUrl();
  }

  /** Receives (and deletes) messages with all attributes until {@code atLeast} arrived. */
  List<Message> receive(String queueUrl, int atLeast, Duration timeout) {
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
                          .messageAttributeNames("All"))
              .join();
      for (Message m : response.messages()) {
        got.add(m);
        client.deleteMessage(d -> d.queueUrl(queueUrl).receiptHandle(m.receiptHandle())).join();
      }
    }
    return got;
  }

  @Override
  public void close() {
    client.close();
    server.stopAndWait();
  }
}
