package dev.outbox;

import java.time.Duration;
import java.util.Objects;

/**
 * A snapshot of an outbox's backlog, cheap enough to take every few seconds.
 *
 * <p>Storages build it with {@link #builder()}, so a figure added in a later version does not break
 * them (it reads 0 until they fill it). Immutable; equal when every figure is equal.
 */
public final class OutboxStats {

  private final long pending;
  private final long claimed;
  private final long failing;
  private final long deadLetters;
  private final Duration oldestPendingAge;

  private OutboxStats(Builder b) {
    this.pending = b.pending;
    this.claimed = b.claimed;
    this.failing = b.failing;
    this.deadLetters = b.deadLetters;
    Objects.requireNonNull(b.oldestPendingAge, "oldestPendingAge");
    // The writer's clock ran ahead of the reader's; an age below zero means nothing useful.
    this.oldestPendingAge = b.oldestPendingAge.isNegative() ? Duration.ZERO : b.oldestPendingAge;
  }

  /** Starts building a snapshot; every figure defaults to 0. */
  public static Builder builder() {
    return new Builder();
  }

  /** Entries in the outbox, not yet published (including claimed and failing ones). */
  public long pending() {
    return pending;
  }

  /** Entries a processor holds an unexpired claim on right now. */
  public long claimed() {
    return claimed;
  }

  /** Entries whose publishing failed at least once ({@code attempts > 0}). */
  public long failing() {
    return failing;
  }

  /** Entries moved to the dead-letter store. */
  public long deadLetters() {
    return deadLetters;
  }

  /** How long the oldest pending entry has waited; {@link Duration#ZERO} when none is pending. */
  public Duration oldestPendingAge() {
    return oldestPendingAge;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OutboxStats s
        && pending == s.pending
        && claimed == s.claimed
        && failing == s.failing
        && deadLetters == s.deadLetters
        && oldestPendingAge.equals(s.oldestPendingAge);
  }

  @Override
  public int hashCode() {
    return Objects.hash(pending, claimed, failing, deadLetters, oldestPendingAge);
  }

  @Override
  public String toString() {
    return "OutboxStats{pending="
        + pending
        + ", claimed="
        + claimed
        + ", failing="
        + failing
        + ", deadLetters="
        + deadLetters
        + ", oldestPendingAge="
        + oldestPendingAge
        + "}";
  }

  /** Builds an {@link OutboxStats}. */
  public static final class Builder {
    private long pending;
    private long claimed;
    private long failing;
    private long deadLetters;
    private Duration oldestPendingAge = Duration.ZERO;

    private Builder() {}

    /** Entries not yet published. */
    public Builder pending(long pending) {
      this.pending = pending;
      return this;
    }

    /** Entries under an unexpired claim. */
    public Builder claimed(long claimed) {
      this.claimed = claimed;
      return this;
    }

    /** Entries with at least one failed attempt. */
    public Builder failing(long failing) {
      this.failing = failing;
      return this;
    }

    /** Dead letters. */
    public Builder deadLetters(long deadLetters) {
      this.deadLetters = deadLetters;
      return this;
    }

    /** The oldest pending entry's age; negative ages read as zero. */
    public Builder oldestPendingAge(Duration oldestPendingAge) {
      this.oldestPendingAge = oldestPendingAge;
      return this;
    }

    /** Builds the snapshot. */
    public OutboxStats build() {
      return new OutboxStats(this);
    }
  }
}
