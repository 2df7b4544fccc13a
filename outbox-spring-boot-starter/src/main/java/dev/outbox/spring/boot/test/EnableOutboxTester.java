package dev.outbox.spring.boot.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.TestPropertySource;

/**
 * On a {@code @SpringBootTest} class: the outbox publishes to a {@code RecordingPublisher} on a
 * {@code FakeClock}, its background processor stays off ({@code outbox.processor.enabled=false}),
 * and an {@link OutboxTester} bean pumps it synchronously. Needs {@code dev.outbox:outbox-testkit}
 * on the test class path.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Import(OutboxTesterConfiguration.class)
@TestPropertySource(properties = "outbox.processor.enabled=false")
public @interface EnableOutboxTester {}
