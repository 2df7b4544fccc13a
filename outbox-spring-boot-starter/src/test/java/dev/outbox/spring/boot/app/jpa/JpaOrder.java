package dev.outbox.spring.boot.app.jpa;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** An order row, written by Hibernate. */
@Entity
@Table(name = "spring_orders_jpa")
public class JpaOrder {

  @Id private String id;

  /** For JPA. */
  protected JpaOrder() {}

  /** An order with this id. */
  public JpaOrder(String id) {
    this.id = id;
  }

  /** The id. */
  public String getId() {
    return id;
  }
}
