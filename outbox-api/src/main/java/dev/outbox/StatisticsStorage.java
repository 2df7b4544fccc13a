package dev.outbox;

import java.time.Instant;

/**
 * The optional capability of a {@link ProcessorStorage} that counts its backlog. {@link
 * Outbox#stats()} needs it.
 */
public interface StatisticsStorage {

  /**
   * Counts the backlog; see {@link OutboxStats} for each figure's meaning. Must be cheap enough to
   * call every few seconds on a large backlog: no scan of the whole table to find the oldest entry.
   *
   * @param now the time claims and ages are measured against
   */
  OutboxStats stats(Instant now);
}
