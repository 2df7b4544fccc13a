package dev.outbox.jdbc;

import dev.outbox.Message;
import dev.outbox.NewEntry;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code order_key} of a message: a 64-bit hash of its namespace and key, computed in Java so
 * that both databases store the same value and no database function is needed.
 *
 * <p>The hash is 64-bit FNV-1a over the namespace's length (4 bytes, big-endian), the namespace's
 * UTF-8 bytes and the key's bytes (the length prefix makes the split unambiguous: {@code ("ab",
 * "c")} and {@code ("a", "bc")} hash different inputs), finished by MurmurHash3's 64-bit mixer so
 * that every bit of the result depends on every input byte (the lock stripes and advisory-lock ids
 * are taken from its low bits). It is stable: stored values stay valid across versions, so it must
 * never change.
 *
 * <p>Two different keys may share an order key. That only orders them together (one waits for the
 * other, like one key); it can never break the order of either, because everything that keeps order
 * (the publish lock, the claim's head test) works on the order key, which a key's every message
 * shares.
 */
final class OrderKeys {

  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private OrderKeys() {}

  /** The order key of a message, or null for a message without a key. */
  static Long of(Message m) {
    byte[] key = m.key();
    return key == null ? null : of(m.namespace(), key);
  }

  /** The order key of a namespace and key. */
  static long of(String namespace, byte[] key) {
    byte[] ns = namespace.getBytes(StandardCharsets.UTF_8);
    long h = FNV_OFFSET;
    for (int shift = 24; shift >= 0; shift -= 8) {
      h = (h ^ ((ns.length >>> shift) & 0xff)) * FNV_PRIME;
    }
    for (byte b : ns) {
      h = (h ^ (b & 0xff)) * FNV_PRIME;
    }
    for (byte b : key) {
      h = (h ^ (b & 0xff)) * FNV_PRIME;
    }
    return mix(h);
  }

  /** MurmurHash3's fmix64. */
  private static long mix(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb53a185a4e63L;
    h ^= h >>> 33;
    return h;
  }

  /** The order keys of entries, in list order; null for entries without a key. */
  static Long[] of(List<NewEntry> entries) {
    Long[] keys = new Long[entries.size()];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = of(entries.get(i).message());
    }
    return keys;
  }

  /** The distinct non-null values, sorted ascending: the order in which locks are taken. */
  static long[] distinctSorted(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = 0;
    for (int i = 0; i < sorted.length; i++) {
      if (i == 0 || sorted[i] != sorted[i - 1]) {
        sorted[n++] = sorted[i];
      }
    }
    return Arrays.copyOf(sorted, n);
  }

  /** A 32-bit hash of text (the same FNV-1a and mixer), e.g. of a table name. */
  static int hash32(String text) {
    long h = of(text, new byte[0]);
    return (int) (h ^ (h >>> 32));
  }
}
