package dev.outbox.sqs;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.Publisher;
import dev.outbox.testkit.PublisherContract;
import dev.outbox.testkit.ReceivedMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The testkit's publisher contract against ElasticMQ: every test gets a fresh standard queue for
 * the contract namespace. Unpublishable entries alternate between a namespace with no route and a
 * payload over the size limit.
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

  @Override
  protected Optional<ClaimedEntry> unpublishableEntry(long id) {
    Message message =
        id % 2 == 0
            ? Message.builder().namespace("unrouted").payload("nowhere to go").build()
            : Message.builder().namespace(namespace()).payload(new byte[300 * 1024]).build();
    return Optional.of(entry(id, message));
  }
}
