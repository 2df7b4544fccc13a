package dev.outbox.example;

import java.net.URI;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

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
