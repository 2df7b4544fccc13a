package dev.outbox.sqs;

import dev.outbox.Publisher;
import dev.outbox.testkit.PublisherContract;
import dev.outbox.testkit.ReceivedMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The testkit's publisher contract against ElasticMQ: every test gets a fresh standard queue for
 * the contract namespace. The suite's defaults find the oversized entry from checkDeliverable and
 * route the unroutable one to a namespace this publisher has no queue for.
 */
class SqsPublisherContractTest extends PublisherContract {

  private static ElasticMq sqs;
  private String queueUrl;

  @BeforeAll
  static void startElasticMq() {
    sqs = ElasticMq.start();
  }

  @AfterAll
  static void stopElasticMq() {
    sqs.close();
  }

  @Override
  protected Publisher publisher() {
    queueUrl = sqs.createQueue("contract", false);
    return SqsPublisher.builder(sqs.client()).routes(Map.of(namespace(), queueUrl)).build();
  }

  @Override
  protected List<ReceivedMessage> received(String namespace, int atLeast, Duration timeout) {
    return sqs.receive(queueUrl, atLeast, timeout).stream()
        .map(
            m ->
                new ReceivedMessage(
                    SqsMessages.messageId(m),
                    SqsMessages.namespace(m),
                    SqsMessages.key(m),
                    SqsMessages.payload(m),
                    SqsMessages.headers(m)))
        .toList();
  }
}
