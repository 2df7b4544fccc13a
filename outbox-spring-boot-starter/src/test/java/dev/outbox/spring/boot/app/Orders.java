package dev.outbox.spring.boot.app;

import dev.outbox.Message;
import java.nio.charset.StandardCharsets;

/** The order event the test applications publish. */
public final class Orders {

  private Orders() {}

  /** The "order placed" message for an order id, keyed by it. */
  public static Message placed(String orderId) {
    return Message.builder()
        .namespace(OrderService.NAMESPACE)
        .key(orderId)
        .payload(("{\"orderId\":\"" + orderId + "\"}").getBytes(StandardCharsets.UTF_8))
        .header("type", "OrderPlaced")
        .build();
  }
}
