package dev.outbox.testkit;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.PublishException;
import dev.outbox.Publisher;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Deliberately broken publishers, each wrapping a {@link RecordingPublisher} (the "broker", with a
 * 256 KiB limit and "-unrouted" namespaces routed nowhere) with one bug, and the {@link
 * PublisherContract} run against each. Not tests themselves (Surefire skips nested classes): {@link
 * PublisherContractCatchesBrokenPublishersTest} runs them with the JUnit Platform's EngineTestKit.
 */
final class BrokenPublishers {

  private BrokenPublishers() {}

  /** Delivers later on a daemon thread, for the publisher that returns before delivering. */
  private static final ScheduledExecutorService LATER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "broken-publisher-later");
            t.setDaemon(true);
            return t;
          });

  /** The contract over a broken publisher; a subclass says which bug. */
  abstract static class Contract extends OrderedPublisherContract {
    final RecordingPublisher broker =
        RecordingPublisherTest.routedAndLimited(new RecordingPublisher());

    abstract Publisher broken(RecordingPublisher broker);

    @Override
    protected Publisher publisher() {
      Publisher broken = broken(broker);
      return new Publisher() {
        @Override
        public void publish(List<ClaimedEntry> entries) throws PublishException {
          broken.publish(entries);
        }

        @Override
        public void checkDeliverable(Message message) {
          broker.checkDeliverable(message);
        }

        @Override
        public boolean keepsOrder() {
          return true; // every broken publisher declares it; the ordered tests run for each
        }
      };
    }

    @Override
    protected Optional<Message> retryablyFailing(Message message) {
      return RecordingPublisherTest.failing(message);
    }

    @Override
    protected List<ReceivedMessage> received(String namespace, int atLeast, Duration timeout) {
      return RecordingPublisherTest.received(broker, namespace, atLeast, timeout);
    }
  }

  /** Silently drops entries with an empty payload. */
  static class DropsEmptyPayloads extends Contract {
    @Override
    Publisher broken(RecordingPublisher broker) {
      return entries -> {
        List<ClaimedEntry> kept =
            entries.stream().filter(e -> e.message().payloadSize() > 0).toList();
        if (!kept.isEmpty()) {
          broker.publish(kept);
        }
      };
    }
  }

  /** Silently drops entries over 64 KiB. */
  static class DropsLargePayloads extends Contract {
    @Override
    Publisher broken(RecordingPublisher broker) {
      return entries -> {
        List<ClaimedEntry> kept =
            entries.stream().filter(e -> e.message().payloadSize() <= 64 * 1024).toList();
        if (!kept.isEmpty()) {
          broker.publish(kept);
        }
      };
    }
  }

  /** Sends a null key as an empty one. */
  static class NullKeyBecomesEmpty extends Contract {
    @Override
    Publisher broken(RecordingPublisher broker) {
      return entries ->
          broker.publish(
              entries.stream()
                  .map(
                      e ->
                          e.message().key() != null
                              ? e
                              : ClaimedEntry.builder()
                                  .id(e.id())
                                  .messageId(e.messageId())
                                  .message(e.message().toBuilder().key(new byte[0]).build())
                                  .createdAt(e.createdAt())
                                  .attempts(e.attempts())
                                  .build())
                  .toList());
    }
  }

  /** Returns at once and hands the batch to the broker 3 s later. */
  static class ReturnsBeforeDelivering extends Contract {
    @Override
    Publisher broken(RecordingPublisher broker) {
      return entries -> {
        LATER.schedule(
            () -> {
              try {
                broker.publish(entries);
              } catch (PublishException ignored) {
                // lost: the caller was told everything went through
              }
            },
            3,
            TimeUnit.SECONDS);
      };
    }
  }

  /** Reports a size-limit failure as retryable. */
  static class SizeLimitFailureIsRetryable extends Contract {
    @Override
    Publisher broken(RecordingPublisher broker) {
      return entries -> {
        try {
          broker.publish(entries);
        } catch (PublishException e) {
          PublishException.Builder retryable = PublishException.builder();
          for (Map.Entry<Long, PublishException.Failure> f : e.failures().entrySet()) {
            retryable.add(f.getKey(), new PublishException.Failure(f.getValue().cause(), false));
          }
          retryable.throwIfAny();
        }
      };
    }
  }

  /** Loses the last entry of every batch of more than one. */
  static class LosesMessages extends Contract {
    @Override
    Publisher broken(RecordingPublisher broker) {
      return entries ->
          broker.publish(entries.size() > 1 ? entries.subList(0, entries.size() - 1) : entries);
    }
  }

  /** Lower-cases header names. */
  static class LowerCasesHeaderNames extends Contract {
    @Override
    Publisher broken(RecordingPublisher broker) {
      return entries ->
          broker.publish(
              entries.stream()
                  .map(
                      e -> {
                        Message.Builder m =
                            Message.builder()
                                .namespace(e.message().namespace())
                                .key(e.message().key())
                                .payload(e.message().payload());
                        e.message().headers().forEach((k, v) -> m.header(k.toLowerCase(), v));
                        return ClaimedEntry.builder()
                            .id(e.id())
                            .messageId(e.messageId())
                            .message(m.build())
                            .createdAt(e.createdAt())
                            .attempts(e.attempts())
                            .build();
                      })
                  .toList());
    }
  }

  /**
   * Declares keepsOrder but hands the broker each call's entries in reverse: every key's entries
   * reach it out of order.
   */
  static class ReversesEachCall extends Contract {
    @Override
    Publisher broken(RecordingPublisher broker) {
      return entries -> {
        List<ClaimedEntry> reversed = new java.util.ArrayList<>(entries);
        java.util.Collections.reverse(reversed);
        broker.publish(reversed);
      };
    }
  }

  /**
   * Declares keepsOrder but, after an entry of a key fails, sends the key's later entries anyway:
   * they overtake the failed one (a broker that does not hold them back).
   */
  static class SendsPastAFailure extends Contract {
    @Override
    Publisher broken(RecordingPublisher broker) {
      broker.keepsOrder(false);
      return broker::publish;
    }
  }

  /** Forgets to implement publisher(). */
  static class NullPublisher extends Contract {
    @Override
    Publisher broken(RecordingPublisher broker) {
      return null;
    }

    @Override
    protected Publisher publisher() {
      return null;
    }
  }
}
