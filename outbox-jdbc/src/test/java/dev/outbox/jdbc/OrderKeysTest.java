package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The order key is stable (stored values must stay valid) and separates namespace from key. */
class OrderKeysTest {

  private static long of(String ns, String key) {
    return OrderKeys.of(ns, key.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void theHashIsStableAcrossVersions() {
    // Pinned values, computed by an independent implementation (Python) of the documented
    // function: changing it would break the order of stored entries.
    assertThat(of("orders", "42")).isEqualTo(of("orders", "42"));
    assertThat(OrderKeys.of("", new byte[0])).isEqualTo(-206715483493508110L);
    assertThat(of("orders", "42")).isEqualTo(-6524191432126071795L);
  }

  @Test
  void namespaceAndKeyCannotBeShiftedIntoEachOther() {
    assertThat(of("ab", "c")).isNotEqualTo(of("a", "bc"));
    assertThat(of("a", "")).isNotEqualTo(of("", "a"));
  }

  @Test
  void aMessageWithoutAKeyHasNoOrderKey() {
    assertThat(OrderKeys.of(Message.builder().namespace("n").payload("p").build())).isNull();
    assertThat(OrderKeys.of(Message.builder().namespace("n").key(new byte[0]).payload("p").build()))
        .isEqualTo(OrderKeys.of("n", new byte[0]));
  }

  @Test
  void manyKeysSpreadOverTheLockStripes() {
    Set<Integer> stripes = new HashSet<>();
    Set<Integer> lockIds = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      long k = of("orders", "order-" + i);
      stripes.add(MySqlDialect.stripe(k));
      lockIds.add(PostgresDialect.lockId(k));
    }
    assertThat(stripes).hasSizeGreaterThan(9_000); // about 9,270 expected of 65,536 stripes
    assertThat(lockIds).hasSize(10_000);
  }
}
