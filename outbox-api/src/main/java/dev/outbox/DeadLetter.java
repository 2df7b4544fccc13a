package dev.outbox;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * An entry that failed too often, or failed permanently, and was moved out of the outbox so it no
 * longer takes a processor's time. {@link Outbox#deadLetters()} lists, requeues and purges them.
 *
 * <p>Storages build it with {@link #builder()}, so a field added in a later version does not break
 * them. Immutable; equal when every field is equal.
 */
public final class DeadLetter {

  private final long id;
  private final UUID messageId;
  private final Message message;
  private final Instant createdAt;
  private final int attempts;
  private final String lastError;
  private final Instant deadLetteredAt;

  private DeadLetter(Builder b) {
    this.id = b.id;
    this.messageId = Objects.requireNonNull(b.messageId, "messageId");
    this.message = Objects.requireNonNull(b.message, "message");
    this.createdAt = Objects.requireNonNull(b.createdAt, "createdAt");
    this.attempts = b.attempts;
    this.lastError = Objects.requireNonNull(b.lastError, "lastError");
    this.deadLetteredAt = Objects.requireNonNull(b.deadLetteredAt, "deadLetteredAt");
  }

  /** Starts building a dead letter; a storage's row mapper uses it. */
  public static Builder builder() {
    return new Builder();
  }

  /** The entry's id, the same it had in the outbox (and keeps when requeued). */
  public long id() {
    return id;
  }

  /** The message's identity, the same it had in the outbox (and keeps when requeued). */
  public UUID messageId() {
    return messageId;
  }

  /** The message as it was written. */
  public Message message() {
    return message;
  }

  /** When the message was written. */
  public Instant createdAt() {
    return createdAt;
  }

  /** How many charged publish attempts failed. */
  public int attempts() {
    return attempts;
  }

  /** The last failure's description (exception class and message). */
  public String lastError() {
    return lastError;
  }

  /** When the entry was moved. */
  public Instant deadLetteredAt() {
    return deadLetteredAt;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DeadLetter d
        && id == d.id
        && attempts == d.attempts
        && messageId.equals(d.messageId)
        && message.equals(d.message)
        && createdAt.equals(d.createdAt)
        && lastError.equals(d.lastError)
        && deadLetteredAt.equals(d.deadLetteredAt);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, messageId, message, createdAt, attempts, lastError, deadLetteredAt);
  }

  @Override
  public String toString() {
    return "DeadLetter{id="
        + id
        + ", messageId="
        + messageId
        + ", "
        + message
        + ", attempts="
        + attempts
        + ", lastError="
        + lastError
        + ", deadLetteredAt="
        + deadLetteredAt
        + "}";
  }

  /** Builds a {@link DeadLetter}; every field but id and attempts is required. */
  public static final class Builder {
    private long id;
    private UUID messageId;
    private Message message;
    private Instant createdAt;
    private int attempts;
    private String lastError;
    private Instant deadLetteredAt;

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

    /** Failed charged attempts. */
    public Builder attempts(int attempts) {
      this.attempts = attempts;
      return this;
    }

    /** The last failure's description. */
    public Builder lastError(String lastError) {
      this.lastError = lastError;
      return this;
    }

    /** When the entry was moved to the dead letters. */
    public Builder deadLetteredAt(Instant deadLetteredAt) {
      this.deadLetteredAt = deadLetteredAt;
      return this;
    }

    /**
     * Builds the dead letter.
     *
     * @throws NullPointerException naming a missing required field
     */
    public DeadLetter build() {
      return new DeadLetter(this);
    }
  }
}
