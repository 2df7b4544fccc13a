package dev.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class MessageIdsTest {

  @Test
  void idsAreVersion7VariantRfcAndCarryTheCurrentMillisecond() {
    long before = System.currentTimeMillis();
    UUID id = MessageIds.next();
    long after = System.currentTimeMillis();

    assertThat(id.version()).isEqualTo(7);
    assertThat(id.variant()).isEqualTo(2);
    long millis = id.getMostSignificantBits() >>> 16;
    assertThat(millis).isBetween(before, after + 1);
  }

  @Test
  void idsMadeOneAfterAnotherAreUniqueAndIncreasing() {
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 200_000; i++) {
      ids.add(MessageIds.next());
    }

    assertThat(new HashSet<>(ids)).hasSize(ids.size());
    for (int i = 1; i < ids.size(); i++) {
      // Compare as unsigned 64-bit: the order a database's uuid type sorts in.
      assertThat(
              Long.compareUnsigned(
                  ids.get(i).getMostSignificantBits(), ids.get(i - 1).getMostSignificantBits()))
          .as("id %d sorts after id %d", i, i - 1)
          .isPositive();
    }
  }
}
