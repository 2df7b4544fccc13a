package dev.outbox;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * A key that a {@link Ordering#BY_KEY_BLOCKING} storage holds back: one of its messages is a dead
 * letter, so its later messages wait. Unblock it with {@link DeadLetters#requeue(long...)} (the
 * dead letter is retried first, then the rest follow) or {@link DeadLetters#purge(long...)} (it is
 * skipped for good).
 *
 * <p>Immutable; equal when every field is equal.
 */
public final class BlockedKey {

  private final String namespace;
  private final byte[] key;
  private final List<Long> deadLetterIds;
  private final long waiting;

  /**
   * @param namespace the key's namespace
   * @param key the key's bytes
   * @param deadLetterIds the dead letters that block it, smallest first; never empty
   * @param waiting how many of its messages wait in the outbox behind them
   */
  public BlockedKey(String namespace, byte[] key, List<Long> deadLetterIds, long waiting) {
    this.namespace = Objects.requireNonNull(namespace, "namespace");
    this.key = Objects.requireNonNull(key, "key").clone();
    this.deadLetterIds = List.copyOf(deadLetterIds);
    if (this.deadLetterIds.isEmpty()) {
      throw new IllegalArgumentException("a blocked key has at least one dead letter");
    }
    if (waiting < 0) {
      throw new IllegalArgumentException("waiting must be >= 0, was " + waiting);
    }
    this.waiting = waiting;
  }

  /** The key's namespace. */
  public String namespace() {
    return namespace;
  }

  /** A copy of the key's bytes. */
  public byte[] key() {
    return key.clone();
  }

  /** The dead letters that block the key, smallest id first. */
  public List<Long> deadLetterIds() {
    return deadLetterIds;
  }

  /** How many of the key's messages wait in the outbox. */
  public long waiting() {
    return waiting;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BlockedKey b
        && namespace.equals(b.namespace)
        && Arrays.equals(key, b.key)
        && deadLetterIds.equals(b.deadLetterIds)
        && waiting == b.waiting;
  }

  @Override
  public int hashCode() {
    return Objects.hash(namespace, Arrays.hashCode(key), deadLetterIds, waiting);
  }

  @Override
  public String toString() {
    return "BlockedKey{namespace="
        + namespace
        + ", key=0x"
        + HexFormat.of().formatHex(key, 0, Math.min(key.length, 64))
        + (key.length > 64 ? "..." : "")
        + ", deadLetterIds="
        + deadLetterIds
        + ", waiting="
        + waiting
        + "}";
  }
}
