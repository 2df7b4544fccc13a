package dev.outbox;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * An outbox entry that a processor holds a claim (a lease) on and is about to publish.
 *
 * <p>Storages build it with {@link #builder()}, so a field added in a later version does not break
 * them. Immutable; equal when every field is equal.
 */
public final class ClaimedEntry {

  private final long id;
  private final UUID messageId;
  private final Message message;
  private final Instant createdAt;
  private final int attempts;

  private ClaimedEntry(Builder b) {
    this.id = b.id;
    this.messageId = Objects.requireNonNull(b.messageId, "messageId");
    this.message = Objects.requireNonNull(b.message, "message");
    this.createdAt = Objects.requireNonNull(b.createdAt, "createdAt");
    if (b.attempts < 0) {
      throw new IllegalArgumentException("attempts must be >= 0, was " + b.attempts);
    }
    this.attempts = b.attempts;
  }

  /** Starts building an entry; a storage's row mapper uses it. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder pre-filled with this entry's fields: for a decorating publisher that forwards a
   * changed copy (say, with other trace headers), so a field added later is carried along.
   */
  public Builder toBuilder() {
    return new Builder()
        .id(id)
        .messageId(messageId)
        .message(message)
        .createdAt(createdAt)
        .attempts(attempts);
  }

  /**
   * The entry's row id in its storage: its key and its order (a later write has a larger id).
   * Unique within one outbox table only; {@link PublishException} names entries by it.
   */
  public long id() {
    return id;
  }

  /**
   * The message's identity, unique beyond its table and stable across redeliveries: what a
   * publisher sends as the deduplication id and what consumers dedupe by.
   */
  public UUID messageId() {
    return messageId;
  }

  /** The message as it was written. */
  public Message message() {
    return message;
  }

  /** When the message was written, by the writer's {@link Clock}. */
  public Instant createdAt() {
    return createdAt;
  }

  /** How many charged publish attempts of this entry have failed before this one. */
  public int attempts() {
    return attempts;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ClaimedEntry e
        && id == e.id
        && attempts == e.attempts
        && messageId.equals(e.messageId)
        && message.equals(e.message)
        && createdAt.equals(e.createdAt);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, messageId, message, createdAt, attempts);
  }

  @Override
  public String toString() {
    return "ClaimedEntry{id="
        + id
        + ", messageId="
        + messageId
        + ", "
        + message
        + ", createdAt="
        + createdAt
        + ", attempts="
        + attempts
        + "}";
  }

  /** Builds a {@link ClaimedEntry}; messageId, message and createdAt are required. */
  public static final class Builder {
    private long id;
    private UUID messageId;
    private Message message;
    private Instant createdAt;
    private int attempts;

    private Builder() {}

    /** The row id. */
    public Builder id(long id) {
      this.id = id;
      return this;
    }

    /** The message's identity. */
    public Builder messageId(UUID messageId) {
      this.messageId = messageId;
      return this;
    }

    /** The message. */
    public Builder message(Message message) {
      this.message = message;
      return this;
    }

    /** When the message was written. */
    public Builder createdAt(Instant createdAt) {
      this.createdAt = createdAt;
      return this;
    }

    /** Failed charged attempts so far; default 0. */
    public Builder attempts(int attempts) {
      this.attempts = attempts;
      return this;
    }

    /**
     * Builds the entry.
     *
     * @throws NullPointerException naming a missing required field
     * @throws IllegalArgumentException when attempts is negative
     */
    public ClaimedEntry build() {
      return new ClaimedEntry(this);
    }
  }
}
