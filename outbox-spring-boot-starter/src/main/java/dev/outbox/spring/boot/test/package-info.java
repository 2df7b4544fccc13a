/**
 * Test support for applications using the starter: {@link
 * dev.outbox.spring.boot.test.EnableOutboxTester} and {@link
 * dev.outbox.spring.boot.test.OutboxTester}.
 */
package dev.outbox.spring.boot.test;
