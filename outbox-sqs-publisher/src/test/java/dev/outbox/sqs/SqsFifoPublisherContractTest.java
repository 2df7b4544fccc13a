package dev.outbox.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.Publisher;
import dev.outbox.testkit.OrderedPublisherContract;
import dev.outbox.testkit.ReceivedMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The testkit's publisher contract against a FIFO queue of ElasticMQ, where the publisher keeps
 * order ({@link SqsPublisher#keepsOrder()}), so the ordered tests run too. Every test gets a fresh
 * FIFO queue; the client fails entries marked by {@link #retryablyFailing} as SQS reports a
 * transient fault of one entry ({@link FlakySqs}).
 */
class SqsFifoPublisherContractTest extends OrderedPublisherContract {

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
    queueUrl = sqs.createQueue("contract", true);
    SqsPublisher publisher =
        SqsPublisher.builder(new FlakySqs(sqs.client()).failMarked())
            .routes(Map.of(namespace(), queueUrl))
            .build();
    assertThat(publisher.keepsOrder()).as("routes to FIFO queues only").isTrue();
    return publisher;
  }

  @Override
  protected Optional<Message> retryablyFailing(Message message) {
    return Optional.of(message.toBuilder().header(FlakySqs.FAIL_HEADER, "yes").build());
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
