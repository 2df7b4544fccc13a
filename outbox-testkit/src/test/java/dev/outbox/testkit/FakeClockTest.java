package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class FakeClockTest {

  private final FakeClock clock = new FakeClock();

  @Test
  void waitsCompleteInDeadlineOrderWhenTheClockReachesThem() {
    List<String> order = new ArrayList<>();
    clock.after(Duration.ofSeconds(3)).thenRun(() -> order.add("3s"));
    clock.after(Duration.ofSeconds(1)).thenRun(() -> order.add("1s"));
    CompletableFuture<Void> late = clock.after(Duration.ofSeconds(10));

    clock.advance(Duration.ofMillis(999));
    assertThat(order).isEmpty();
    clock.advance(Duration.ofSeconds(3));

    assertThat(order).containsExactly("1s", "3s");
    assertThat(late).isNotDone();
    assertThat(clock.waiters()).isEqualTo(1);
    assertThat(clock.now()).isEqualTo(FakeClock.DEFAULT_START.plusMillis(3999));
  }

  @Test
  void aCancelledWaitIsForgotten() {
    CompletableFuture<Void> wait = clock.after(Duration.ofSeconds(1));
    wait.cancel(false);

    assertThat(clock.waiters()).isZero();
  }

  @Test
  void aZeroWaitIsAlreadyDoneAndTimeNeverRunsBackwards() {
    assertThat(clock.after(Duration.ZERO)).isDone();
    assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void awaitWaitersFailsWithAClearMessageWhenNobodyWaits() {
    assertThatThrownBy(() -> clock.awaitWaiters(1, Duration.ofMillis(20)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("expected 1 pending waits");
  }
}
