package dev.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void doublesUpToTheCap() {
    Backoff b =
        new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), 0, new SplittableRandom(1));

    assertThat(b.delay(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(b.delay(2)).isEqualTo(Duration.ofMillis(200));
    assertThat(b.delay(4)).isEqualTo(Duration.ofMillis(800));
    assertThat(b.delay(5)).isEqualTo(Duration.ofSeconds(1));
    assertThat(b.delay(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void jitterOnlyShortensWithinItsFraction() {
    Backoff b =
        new Backoff(Duration.ofSeconds(10), Duration.ofSeconds(10), 0.5, new SplittableRandom(1));

    for (int i = 0; i < 1000; i++) {
      assertThat(b.delay(1)).isBetween(Duration.ofSeconds(5), Duration.ofSeconds(10));
    }
  }
}
