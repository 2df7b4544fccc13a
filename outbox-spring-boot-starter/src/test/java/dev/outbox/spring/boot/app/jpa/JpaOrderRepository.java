package dev.outbox.spring.boot.app.jpa;

import org.springframework.data.jpa.repository.JpaRepository;

/** Orders, by Spring Data JPA. */
public interface JpaOrderRepository extends JpaRepository<JpaOrder, String> {}
