package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.jdbc.OrderedCrashHarness.Delivery;
import dev.outbox.jdbc.OrderedCrashHarness.Report;
import dev.outbox.jdbc.OrderedCrashHarness.Written;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The consumer check of {@link OrderedCrashHarness} can fail: it sees what it must count. */
class OrderedCrashCheckTest {

  private final UUID a1 = UUID.randomUUID();
  private final UUID a2 = UUID.randomUUID();
  private final UUID a3 = UUID.randomUUID();
  private final UUID b1 = UUID.randomUUID();
  private final Map<UUID, Written> written =
      Map.of(
          a1,
          new Written("a", 1),
          a2,
          new Written("a", 2),
          a3,
          new Written("a", 3),
          b1,
          new Written("b", 1));

  @Test
  void inOrderWithDuplicatesAndADeadLetterIsClean() {
    Report r =
        OrderedCrashHarness.check(
            written,
            List.of(d(a1), d(b1), d(a1), new Delivery(a2, "a", true), d(a3), d(b1), d(a3)),
            Set.of(a2)); // a2 dead-lettered: a3 may follow it
    assertThat(r.violations()).isZero();
    assertThat(r.gaps()).isZero();
    assertThat(r.lost()).isZero();
    assertThat(r.phantoms()).isZero();
    assertThat(r.duplicates()).isEqualTo(3);
    assertThat(r.delivered()).isEqualTo(3);
    assertThat(r.deadLettered()).isEqualTo(1);
  }

  @Test
  void aMessageOvertakingAnEarlierOneOfItsKeyIsAViolation() {
    Report r =
        OrderedCrashHarness.check(written, List.of(d(a2), d(b1), d(a1), d(a3), d(a1)), Set.of());
    assertThat(r.violations()).isEqualTo(1);
    assertThat(r.gaps()).isEqualTo(1); // a2 came before a1
    assertThat(r.violatingKeys()).isEqualTo(1);
    assertThat(r.firstViolation()).isEqualTo("a #1 after #2");
    assertThat(r.lost()).isZero();
  }

  @Test
  void aRedeliveryOfAnOldMessageIsADuplicateNotAViolation() {
    Report r =
        OrderedCrashHarness.check(written, List.of(d(a1), d(a2), d(a1), d(a3), d(b1)), Set.of());
    assertThat(r.violations()).isZero();
    assertThat(r.duplicates()).isEqualTo(1);
  }

  @Test
  void aMessageNeitherDeliveredNorDeadLetteredIsLost() {
    Report r = OrderedCrashHarness.check(written, List.of(d(a1), d(a3), d(b1)), Set.of());
    assertThat(r.lost()).isEqualTo(1);
    assertThat(r.violations()).isZero(); // a2 never came: loss, and a gap, not a late arrival
    assertThat(r.gaps()).isEqualTo(1);
  }

  @Test
  void overtakingAMessageThatIsDeadLetteredLaterIsAGap() {
    Report r =
        OrderedCrashHarness.check(
            written, List.of(d(a1), d(a3), new Delivery(a2, "a", true), d(b1)), Set.of(a2));
    assertThat(r.violations()).isZero(); // a2 never delivered: only the stricter check sees it
    assertThat(r.gaps()).isEqualTo(1);
    assertThat(r.lost()).isZero();
  }

  @Test
  void followingAMessageMarkedDeadLetteredIsNoGap() {
    Report r =
        OrderedCrashHarness.check(
            written, List.of(d(a1), new Delivery(a2, "a", true), d(a3), d(b1)), Set.of(a2));
    assertThat(r.gaps()).isZero();
    assertThat(r.violations()).isZero();
  }

  @Test
  void aDeliveryOfSomethingNeverWrittenIsAPhantom() {
    Report r =
        OrderedCrashHarness.check(
            written,
            List.of(d(a1), d(a2), d(a3), d(b1), new Delivery(UUID.randomUUID(), "a")),
            Set.of());
    assertThat(r.phantoms()).isEqualTo(1);
  }

  private Delivery d(UUID id) {
    return new Delivery(id, written.get(id).key());
  }
}
