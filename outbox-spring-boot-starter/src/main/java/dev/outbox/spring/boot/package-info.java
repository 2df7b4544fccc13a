/**
 * Spring Boot auto-configuration of the transactional outbox: {@link
 * dev.outbox.spring.boot.TransactionalOutbox} joins the caller's Spring-managed transaction, {@link
 * dev.outbox.spring.boot.OutboxProcessorLifecycle} runs the processor with the application, and the
 * {@code outbox} Actuator endpoint and health indicator report on it.
 */
package dev.outbox.spring.boot;
