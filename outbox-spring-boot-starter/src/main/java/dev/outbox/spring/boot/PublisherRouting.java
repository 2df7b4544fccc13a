package dev.outbox.spring.boot;

import java.util.Map;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Matches when a publisher's destination is configured: its single destination property (a queue
 * URL, a topic) is set, or its per-namespace routes are. The SQS and Kafka auto-configurations each
 * subclass it with their property names.
 */
abstract class PublisherRouting extends SpringBootCondition {

  private final String single;
  private final String routes;

  PublisherRouting(String single, String routes) {
    this.single = single;
    this.routes = routes;
  }

  @Override
  public ConditionOutcome getMatchOutcome(
      ConditionContext context, AnnotatedTypeMetadata metadata) {
    Binder binder = Binder.get(context.getEnvironment());
    boolean one = binder.bind(single, String.class).map(s -> !s.isBlank()).orElse(false);
    boolean many =
        binder
            .bind(routes, Bindable.mapOf(String.class, String.class))
            .map((Map<String, String> m) -> !m.isEmpty())
            .orElse(false);
    return one || many
        ? ConditionOutcome.match(single + " or " + routes + " is set")
        : ConditionOutcome.noMatch("neither " + single + " nor " + routes + " is set");
  }
}
