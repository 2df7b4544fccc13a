package dev.outbox.spring.boot.test;

import dev.outbox.Outbox;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.RecordingPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;

/**
 * The beans of {@link EnableOutboxTester}: a {@link RecordingPublisher} that takes the place of the
 * application's publisher, a {@link FakeClock} for the outbox, and the {@link OutboxTester}.
 */
@Configuration(proxyBeanMethods = false)
public class OutboxTesterConfiguration {

  /** Creates the configuration. */
  public OutboxTesterConfiguration() {}

  /** Records what the outbox publishes; primary, so it wins over the application's publisher. */
  @Bean
  @Primary
  public RecordingPublisher outboxRecordingPublisher() {
    return new RecordingPublisher();
  }

  /** The outbox's clock. */
  @Bean
  public FakeClock outboxFakeClock() {
    return new FakeClock();
  }

  /** The tester. */
  @Bean
  public OutboxTester outboxTester(
      Outbox<?> outbox, RecordingPublisher outboxRecordingPublisher, FakeClock outboxFakeClock) {
    return new OutboxTester(outbox, outboxRecordingPublisher, outboxFakeClock);
  }
}
