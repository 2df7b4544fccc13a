package dev.outbox;

/**
 * Whether, and how, a {@link ProcessorStorage} keeps the messages of one key in order. Chosen on
 * the storage (its builder), because both halves of ordering live there: {@code publish} must make
 * a key's id order equal its commit order, and {@code claim} must hand out a key's messages only
 * one run at a time. The {@link Outbox} reads it from {@link ProcessorStorage#ordering()} and
 * publishes accordingly.
 *
 * <p>A key is the pair of a message's {@link Message#namespace() namespace} and {@link
 * Message#key() key}. Messages without a key are never ordered.
 *
 * <h2>The guarantee (BY_KEY and BY_KEY_BLOCKING)</h2>
 *
 * For two messages of the same key, call the one whose writing transaction committed first the
 * <em>earlier</em>. The publisher receives a message only after every earlier message of its key
 * was confirmed by the publisher, or dead-lettered. Writers of one key are serialized from their
 * {@code publish} call to their commit (a lock per key, taken inside the caller's transaction), so
 * commit order and id order agree. Retries, crashes and lease take-overs may repeat a message
 * (at-least-once), but a message's <em>first</em> delivery never precedes an earlier message's
 * first delivery.
 */
public enum Ordering {

  /** No order: entries are claimed oldest first, by any number of processors at once. */
  NONE,

  /**
   * Per-key order; a key whose head message is dead-lettered (after {@code maxAttempts}, or a
   * permanent failure) continues with its next message.
   */
  BY_KEY,

  /**
   * Per-key order; a key whose head message is dead-lettered stays blocked (its later messages
   * wait) until an operator requeues the dead letter (retry it) or purges it (skip it): see {@link
   * DeadLetters#blockedKeys(int)}.
   */
  BY_KEY_BLOCKING;

  /** Whether messages of one key are kept in order. */
  public boolean byKey() {
    return this != NONE;
  }
}
