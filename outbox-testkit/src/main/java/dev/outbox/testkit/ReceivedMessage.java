package dev.outbox.testkit;

import java.util.Map;
import java.util.UUID;

/**
 * A message as a consumer of the broker received it, decoded by the publisher contract's subclass.
 *
 * @param messageId the message id the publisher sent along ({@code ClaimedEntry.messageId()})
 * @param namespace the namespace, or {@code null} when the broker does not carry it
 * @param key the key, or {@code null} when the message had none or the broker does not carry it
 * @param payload the payload bytes
 * @param headers the headers the publisher carried (the publisher's own, such as the entry id
 *     attribute, excluded)
 */
public record ReceivedMessage(
    UUID messageId, String namespace, byte[] key, byte[] payload, Map<String, String> headers) {}
