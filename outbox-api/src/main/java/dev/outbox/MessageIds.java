package dev.outbox;

import java.security.SecureRandom;
import java.util.UUID;

/**
 * Makes message ids: UUID version 7 (RFC 9562), a 48-bit Unix millisecond timestamp followed by
 * random bits, so ids are unique across tables, processes and hosts, and ids made later sort later
 * (good locality in a B-tree index). Within one millisecond, one JVM's ids still increase: the
 * 12-bit {@code rand_a} field is a counter seeded at random each millisecond (RFC 9562, method 3).
 * Thread-safe. Internal.
 */
final class MessageIds {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static long lastMillis;
  private static int counter;

  private MessageIds() {}

  static UUID next() {
    long millis;
    int seq;
    synchronized (MessageIds.class) {
      millis = Math.max(System.currentTimeMillis(), lastMillis);
      if (millis == lastMillis) {
        counter++;
        if (counter > 0xFFF) { // the counter ran out within this millisecond: borrow the next one
          millis++;
          counter = RANDOM.nextInt(0x800);
        }
      } else {
        counter = RANDOM.nextInt(0x800); // leaves room to count up within the millisecond
      }
      lastMillis = millis;
      seq = counter;
    }
    long msb = (millis << 16) | 0x7000L | seq;
    long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }
}
