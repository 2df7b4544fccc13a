package dev.outbox;

/**
 * What one {@link Outbox#pumpOutbox()} pass did.
 *
 * @param claimed entries claimed
 * @param published entries the publisher accepted (and that were then deleted)
 * @param failed entries that failed, were charged an attempt, and wait for a retry
 * @param deadLettered entries moved to the dead letters
 * @param released entries given back uncharged because the publisher delivered nothing at all (a
 *     suspected broker outage); they are retried after the loop's error backoff
 */
public record PumpResult(int claimed, int published, int failed, int deadLettered, int released) {

  /** A pass that found nothing to do. */
  public static final PumpResult EMPTY = new PumpResult(0, 0, 0, 0, 0);

  /** The sum of this and another result. */
  public PumpResult plus(PumpResult other) {
    return new PumpResult(
        claimed + other.claimed,
        published + other.published,
        failed + other.failed,
        deadLettered + other.deadLettered,
        released + other.released);
  }

  /** Whether the publisher delivered nothing and gave entries back: the loop backs off. */
  public boolean outage() {
    return released > 0 && published == 0;
  }
}
