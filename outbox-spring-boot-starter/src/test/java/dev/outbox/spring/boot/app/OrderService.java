package dev.outbox.spring.boot.app;

/** What the test applications' order services do: write an order and publish its event. */
public interface OrderService {

  /** The outbox message namespace of order events. */
  String NAMESPACE = "orders";

  /**
   * Writes an order row and publishes "order placed" in one transaction; when {@code fail} is true,
   * throws after both writes, so the transaction rolls back.
   */
  void place(String orderId, boolean fail);

  /** How many order rows with this id exist. */
  long count(String orderId);

  /** The business table's name. */
  String table();

  /** Creates the business table if missing and empties it. */
  void reset();

  /** Thrown by {@link #place} when asked to fail. */
  final class OrderFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Creates the failure. */
    public OrderFailed(String orderId) {
      super("order " + orderId + " failed after writing (as the test asked)");
    }
  }
}
